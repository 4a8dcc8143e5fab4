import { describe, expect, it } from "vitest"
import { fromColonyError } from "../src/gateway/OpenAICompat.js"

describe("colony failures as OpenAI errors", () => {
  it.each([
    ["UnknownAgent", 404, "not_found_error"],
    ["InvalidMessage", 400, "invalid_request_error"],
    ["PayloadTooLarge", 413, "invalid_request_error"],
    ["MailboxFull", 429, "rate_limit_error"],
    ["AgentInterrupted", 503, "server_error"],
    // the gateway fell behind its own follow of the run: nothing upstream failed, a retry may pass
    ["FollowerOverflow", 503, "server_error"],
    ["AgentCallTimeout", 504, "server_error"],
    ["ModelRetriesExhausted", 502, "server_error"]
  ])("%s is %i %s with its tag as the code", (tag, status, type) => {
    const { body, status: got } = fromColonyError({ _tag: tag, message: `${tag} happened` })
    expect(got).toBe(status)
    expect(body.error).toEqual({ message: `${tag} happened`, type, code: tag, param: null })
  })
})
