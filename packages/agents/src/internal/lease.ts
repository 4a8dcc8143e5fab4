/**
 * The rules of a lease over plain data, shared by `Lock` (its public pure API) and the in-memory
 * coordination storage. The SQL storage states the same rules as one statement per operation.
 */

export interface LeaseFields {
  readonly name: string
  readonly owner: string
  /** grows with every new grant of this lock; unchanged by renewals */
  readonly token: number
  /** epoch milliseconds */
  readonly expiresAt: number
}

export interface State {
  readonly lease: LeaseFields | undefined
  readonly lastToken: number
}

export const empty: State = { lease: undefined, lastToken: 0 }

export const holder = (state: State, now: number): LeaseFields | undefined =>
  state.lease !== undefined && state.lease.expiresAt > now ? state.lease : undefined

export const acquire = (
  state: State,
  name: string,
  owner: string,
  now: number,
  ttlMs: number
): { readonly state: State; readonly granted: LeaseFields } | { readonly state: State; readonly heldBy: LeaseFields } => {
  const current = holder(state, now)
  if (current !== undefined && current.owner !== owner) return { state, heldBy: current }
  const token = current !== undefined ? current.token : Math.max(state.lastToken + 1, Math.floor(now))
  const granted = { name, owner, token, expiresAt: now + ttlMs }
  return { state: { lease: granted, lastToken: token }, granted }
}

export const renew = (state: State, owner: string, token: number, now: number, ttlMs: number): State | undefined => {
  const current = holder(state, now)
  if (current === undefined || current.owner !== owner || current.token !== token) return undefined
  return { ...state, lease: { ...current, expiresAt: now + ttlMs } }
}

export const release = (state: State, owner: string, token: number, now: number): State | undefined => {
  const current = holder(state, now)
  if (current === undefined || current.owner !== owner || current.token !== token) return undefined
  return { ...state, lease: undefined }
}
