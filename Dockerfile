# The Colony image: `colony runner` (the default) and `colony gateway`, compiled JavaScript on
# plain Node, as the unprivileged node user.
#
# No container tool runs on the machines this repository is developed and tested on, so no test
# builds this image. It runs exactly the install and start steps that test/packaging.test.ts runs
# on every `npm test`: `npm ci`, `npm pack` of the three packages (their prepack is the tsc build),
# `npm install` of the tarballs into a fresh folder, and the installed CLI under `node`.
#
#   docker build -t colony .
#   docker run colony runner --agents /app/agents/agents.js   # with your compiled agents in /app/agents
ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS pack
RUN npm install --global --no-audit --no-fund npm@11.19.1
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund \
 && mkdir /packs \
 && npm pack --pack-destination /packs -w @colony/runtime -w @colony/agents -w @colony/apps

FROM ${NODE_IMAGE}
RUN npm install --global --no-audit --no-fund npm@11.19.1
WORKDIR /app
COPY --from=pack /packs /packs
RUN echo '{ "name": "colony-image", "private": true, "type": "module", "allowScripts": { "msgpackr-extract": true } }' > package.json \
 && npm install --no-audit --no-fund --omit=dev /packs/*.tgz \
 && rm -rf /packs /root/.npm
COPY deploy/healthcheck.mjs /app/healthcheck.mjs
ENV NODE_ENV=production \
    COLONY_LISTEN_HOST=0.0.0.0 \
    COLONY_LISTEN_PORT=34431 \
    COLONY_GATEWAY_HOST=0.0.0.0 \
    COLONY_GATEWAY_PORT=8420
USER node
EXPOSE 34431 8420
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
ENTRYPOINT ["node", "/app/node_modules/@colony/apps/bin/colony.js"]
CMD ["runner"]
