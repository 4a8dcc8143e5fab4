// The image's health check. One image runs both programs, so it asks PID 1 which one it is: a
// gateway is healthy when /readyz answers 200 (the colony answers and its agent types are
// registered), a runner while it accepts connections from other runners on its port.
import { readFileSync } from "node:fs"
import { connect } from "node:net"

const args = readFileSync("/proc/1/cmdline", "utf8").split("\0")
const fail = () => process.exit(1)

if (args.includes("gateway")) {
  const port = process.env.COLONY_GATEWAY_PORT ?? "8420"
  fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2500) })
    .then((response) => process.exit(response.ok ? 0 : 1), fail)
} else {
  const socket = connect(Number(process.env.COLONY_LISTEN_PORT ?? "34431"), "127.0.0.1")
  socket.setTimeout(2500, fail)
  socket.on("connect", () => process.exit(0)).on("error", fail)
}
