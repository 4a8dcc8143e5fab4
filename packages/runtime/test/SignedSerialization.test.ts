import * as RpcSerialization from "@effect/rpc/RpcSerialization"
import { describe, expect, it } from "@effect/vitest"
import { Redacted } from "effect"
import * as Signed from "../src/internal/signedSerialization.js"

const message = { _tag: "Request", id: "1", tag: "Ask", payload: { prompt: "hello" }, headers: [] }

describe("runner frame signing", () => {
  it("a frame signed with the colony's secret decodes, also when it arrives in pieces", () => {
    const serialization = Signed.make(Redacted.make("s3cret"))
    const frame = serialization.unsafeMake().encode(message) as Uint8Array
    const receiver = serialization.unsafeMake()
    expect(receiver.decode(frame.subarray(0, 10))).toEqual([])
    expect(receiver.decode(frame.subarray(10))).toEqual([message])
  })

  it("a frame signed with another secret is refused with a serialization error, never decoded", () => {
    const frame = Signed.make(Redacted.make("wrong")).unsafeMake().encode(message) as Uint8Array
    const receiver = Signed.make(Redacted.make("s3cret")).unsafeMake()
    expect(() => receiver.decode(frame)).toThrow(RpcSerialization.RpcSerializationError)
  })

  it("an unsigned msgpack frame is refused", () => {
    const plain = RpcSerialization.msgPack.unsafeMake().encode(message) as Uint8Array
    const receiver = Signed.make(Redacted.make("s3cret")).unsafeMake()
    expect(() => receiver.decode(plain)).toThrow(RpcSerialization.RpcSerializationError)
  })
})
