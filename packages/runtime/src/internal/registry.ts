import { Context, Layer } from "effect"
import type * as Entity from "@effect/cluster/Entity"

/**
 * The agent types this process knows, by name: the ones it hosts and the ones it was told
 * about as a client. Sending to a name outside it fails with `UnknownAgent` instead of waiting
 * for an entity manager that will never register.
 */
export class Registry extends Context.Tag("@colony/runtime/Registry")<Registry, {
  readonly register: (entity: Entity.Any) => () => void
  readonly get: (name: string) => Entity.Any | undefined
  readonly names: () => ReadonlyArray<string>
}>() {}

export const layer: Layer.Layer<Registry> = Layer.sync(Registry, () => {
  const entries = new Map<string, { entity: Entity.Any; count: number }>()
  return {
    register: (entity) => {
      const entry = entries.get(entity.type) ?? { entity, count: 0 }
      entry.count++
      entries.set(entity.type, entry)
      return () => {
        if (--entry.count === 0) entries.delete(entity.type)
      }
    },
    get: (name) => entries.get(name)?.entity,
    names: () => [...entries.keys()].sort()
  }
})
