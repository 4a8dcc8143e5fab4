/**
 * Test support for `@colony/runtime`: the fake OpenAI-compatible server.
 *
 * @since 0.1.0
 */
export * as FakeOpenAI from "./FakeOpenAI.js"
