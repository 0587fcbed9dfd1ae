/**
 * The scripted model server against the real AI SDK providers over loopback HTTP: every protocol,
 * streaming and not, tool round trips, usage, faults and the failure messages tests rely on.
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { APICallError, generateText, stepCountIs, streamText, tool, type LanguageModel } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  allText,
  endsWithToolResult,
  lastToolResult,
  lastUserText,
  startScriptedModelServer,
  type ModelProtocol,
  type ScriptedModelServer,
} from './support/scripted-model-server/index.ts';

const API_KEY = 'sk-scripted-test-key';

interface ProviderCase {
  name: string;
  protocol: ModelProtocol;
  model: (url: string, apiKey?: string) => LanguageModel;
}

const providers: ProviderCase[] = [
  {
    name: 'anthropic',
    protocol: 'anthropic',
    model: (url, apiKey = API_KEY) => createAnthropic({ baseURL: `${url}/v1`, apiKey })('claude-sonnet-4-5'),
  },
  {
    name: 'openai chat',
    protocol: 'openai-chat',
    model: (url, apiKey = API_KEY) => createOpenAI({ baseURL: `${url}/v1`, apiKey }).chat('gpt-4.1'),
  },
  {
    name: 'openai responses',
    protocol: 'openai-responses',
    // gpt-4.1 is not a reasoning model, so the SDK sends earlier text back as item references.
    model: (url, apiKey = API_KEY) => createOpenAI({ baseURL: `${url}/v1`, apiKey }).responses('gpt-4.1'),
  },
  {
    name: 'openai-compatible',
    protocol: 'openai-chat',
    model: (url, apiKey = API_KEY) =>
      createOpenAICompatible({
        name: 'scripted',
        baseURL: `${url}/v1`,
        apiKey,
        includeUsage: true,
      }).chatModel('scripted-model'),
  },
  {
    name: 'google',
    protocol: 'gemini',
    model: (url, apiKey = API_KEY) =>
      createGoogleGenerativeAI({ baseURL: `${url}/v1beta`, apiKey })('gemini-2.5-flash'),
  },
];

const weather = tool({
  description: 'Looks up the weather forecast for a city.',
  inputSchema: z.object({ city: z.string(), days: z.number() }),
  execute: async ({ city, days }) => `sunny in ${city} for ${days} days`,
});

let server: ScriptedModelServer;

beforeAll(async () => {
  server = await startScriptedModelServer({ script: [], apiKey: API_KEY });
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.requests.length = 0;
  server.setScript([]);
});

describe.each(providers)('$name', (provider) => {
  it('streams a tool call, then text after the tool result, with the scripted usage', async () => {
    server.setScript([
      {
        name: 'ask-weather',
        text: 'Let me check the forecast.',
        toolCalls: [{ name: 'weather', input: { city: 'Oslo', days: 2 } }],
        usage: { inputTokens: 11, outputTokens: 7 },
      },
      {
        name: 'answer',
        when: (request) => lastToolResult(request)?.output.includes('sunny') ?? false,
        text: 'It will be sunny in Oslo.',
        usage: { inputTokens: 23, outputTokens: 5 },
      },
    ]);

    const result = streamText({
      model: provider.model(server.url),
      system: 'You are a weather assistant.',
      prompt: 'What is the weather in Oslo?',
      tools: { weather },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    const steps = await result.steps;

    expect(steps).toHaveLength(2);
    const [first, second] = steps;
    expect(first!.text).toBe('Let me check the forecast.');
    expect(first!.toolCalls).toEqual([
      expect.objectContaining({ toolName: 'weather', input: { city: 'Oslo', days: 2 } }),
    ]);
    expect(first!.finishReason).toBe('tool-calls');
    expect(first!.usage).toMatchObject({ inputTokens: 11, outputTokens: 7, totalTokens: 18 });
    expect(first!.warnings ?? []).toEqual([]);
    expect(second!.text).toBe('It will be sunny in Oslo.');
    expect(second!.finishReason).toBe('stop');
    expect(second!.usage).toMatchObject({ inputTokens: 23, outputTokens: 5, totalTokens: 28 });
    expect(await result.totalUsage).toMatchObject({ inputTokens: 34, outputTokens: 12 });

    expect(server.requests).toHaveLength(2);
    const [firstRequest, secondRequest] = server.requests;
    expect(firstRequest).toMatchObject({
      index: 0,
      protocol: provider.protocol,
      stream: true,
      answeredWith: 'ask-weather',
    });
    expect(firstRequest!.system).toBe('You are a weather assistant.');
    expect(lastUserText(firstRequest!)).toBe('What is the weather in Oslo?');
    expect(firstRequest!.tools).toEqual([
      {
        name: 'weather',
        description: 'Looks up the weather forecast for a city.',
        inputSchema: expect.objectContaining({
          properties: expect.objectContaining({ city: expect.anything(), days: expect.anything() }),
        }),
      },
    ]);

    expect(secondRequest).toMatchObject({ index: 1, answeredWith: 'answer', turnName: 'answer' });
    expect(endsWithToolResult(secondRequest!)).toBe(true);
    const assistant = secondRequest!.messages.find((message) => message.role === 'assistant');
    expect(assistant).toEqual({
      role: 'assistant',
      text: 'Let me check the forecast.',
      toolCalls: [{ id: first!.toolCalls[0]!.toolCallId, name: 'weather', input: { city: 'Oslo', days: 2 } }],
      toolResults: [],
    });
    expect(lastToolResult(secondRequest!)).toEqual({
      toolCallId: first!.toolCalls[0]!.toolCallId,
      output: expect.stringContaining('sunny in Oslo for 2 days'),
    });
    if (provider.protocol === 'openai-responses') {
      // The assistant text above came back as a reference to the item the server answered with.
      expect(JSON.stringify(secondRequest!.body)).toContain('"type":"item_reference"');
    }
    expect(allText(secondRequest!)).toContain('What is the weather in Oslo?');
    expect(server.remainingTurns()).toEqual([]);
  });

  it('streams parallel tool calls without an empty text part', async () => {
    server.setScript([
      {
        toolCalls: [
          { name: 'weather', input: { city: 'Oslo', days: 1 } },
          { name: 'weather', input: { city: 'Lima', days: 3 } },
        ],
      },
    ]);
    const result = streamText({
      model: provider.model(server.url),
      prompt: 'Weather in Oslo and Lima?',
      tools: { weather: tool({ inputSchema: weather.inputSchema }) },
      maxRetries: 0,
    });
    const content = await result.content;
    expect(content.map((part) => part.type)).toEqual(['tool-call', 'tool-call']);
    expect((await result.toolCalls).map((call) => call.input)).toEqual([
      { city: 'Oslo', days: 1 },
      { city: 'Lima', days: 3 },
    ]);
    expect(await result.finishReason).toBe('tool-calls');
  });

  it('answers generateText without streaming', async () => {
    server.setScript([{ text: 'Plain answer.', usage: { inputTokens: 3, outputTokens: 2 } }]);
    const result = await generateText({ model: provider.model(server.url), prompt: 'hello', maxRetries: 0 });
    expect(result.text).toBe('Plain answer.');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toMatchObject({ inputTokens: 3, outputTokens: 2 });
    expect(server.requests[0]).toMatchObject({ stream: false, answeredWith: 'turn #0' });
  });

  it('answers a non-streamed tool call', async () => {
    server.setScript([
      { toolCalls: [{ name: 'weather', input: { city: 'Rome', days: 1 }, id: 'call-fixed-1' }] },
    ]);
    const result = await generateText({
      model: provider.model(server.url),
      prompt: 'Weather in Rome?',
      tools: { weather: tool({ inputSchema: weather.inputSchema }) },
      maxRetries: 0,
    });
    expect(result.finishReason).toBe('tool-calls');
    expect(result.toolCalls).toEqual([
      expect.objectContaining({
        toolCallId: 'call-fixed-1',
        toolName: 'weather',
        input: { city: 'Rome', days: 1 },
      }),
    ]);
  });

  it('turns a scripted 429 into an APICallError with its retry-after', async () => {
    server.setScript([
      { name: 'rate-limited', fault: { kind: 'http-error', status: 429, retryAfterSeconds: 7 } },
    ]);
    const error = await generateText({
      model: provider.model(server.url),
      prompt: 'hello',
      maxRetries: 0,
    }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(APICallError.isInstance(error)).toBe(true);
    const callError = error as APICallError;
    expect(callError.statusCode).toBe(429);
    expect(callError.isRetryable).toBe(true);
    expect(callError.responseHeaders?.['retry-after']).toBe('7');
    expect(callError.message).toContain('scripted HTTP 429 (rate-limited)');
    expect(server.requests[0]).toMatchObject({ answeredWith: 'fault', turnName: 'rate-limited' });
  });

  it('errors the stream, without hanging, when the connection is cut mid-stream', async () => {
    server.setScript([
      { text: 'This answer never finishes, sadly.', fault: { kind: 'cut-stream', afterChunks: 2 } },
    ]);
    const result = streamText({
      model: provider.model(server.url),
      prompt: 'hello',
      maxRetries: 0,
      onError: () => {},
    });
    // Depending on the provider the cut surfaces as an error part or as the stream itself failing.
    let streamError: unknown;
    try {
      for await (const part of result.fullStream) {
        if (part.type === 'error') streamError ??= part.error;
      }
    } catch (error) {
      streamError = error;
    }
    expect(streamError).toBeInstanceOf(Error);
    expect(server.requests[0]?.answeredWith).toBe('fault');
  });

  it('answers 500 with a clear message when no turn matches', async () => {
    server.setScript([{ name: 'only-after-tools', when: endsWithToolResult, text: 'never' }]);
    const error = await generateText({
      model: provider.model(server.url),
      prompt: 'hello there',
      maxRetries: 0,
    }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(APICallError.isInstance(error)).toBe(true);
    expect((error as APICallError).statusCode).toBe(500);
    expect((error as APICallError).message).toBe(
      'scripted model server: no scripted turn matches request #0 (last message: user: "hello there"); ' +
        'unplayed turns: only-after-tools',
    );
    expect(server.requests[0]?.answeredWith).toBe('error');
  });

  it('answers 401 to a wrong API key', async () => {
    server.setScript([{ text: 'never' }]);
    const error = await generateText({
      model: provider.model(server.url, 'sk-wrong'),
      prompt: 'hello',
      maxRetries: 0,
    }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(APICallError.isInstance(error)).toBe(true);
    expect((error as APICallError).statusCode).toBe(401);
    expect(server.requests[0]?.answeredWith).toBe('error');
    expect(server.remainingTurns()).toHaveLength(1);
  });
});

describe('script', () => {
  it('keeps repeating turns, skips turns whose when() fails, and plays a function script forever', async () => {
    const model = providers[0]!.model(server.url);
    server.setScript([
      { name: 'later', when: (request) => lastUserText(request) === 'second', text: 'two' },
      { name: 'always', repeat: true, text: 'again' },
    ]);
    const answers: string[] = [];
    for (const prompt of ['first', 'second', 'third']) {
      answers.push((await generateText({ model, prompt, maxRetries: 0 })).text);
    }
    expect(answers).toEqual(['again', 'two', 'again']);
    expect(server.remainingTurns().map((turn) => turn.name)).toEqual(['always']);

    server.setScript((request) => ({ text: `echo ${lastUserText(request)}` }));
    expect((await generateText({ model, prompt: 'ping', maxRetries: 0 })).text).toBe('echo ping');
    expect((await generateText({ model, prompt: 'pong', maxRetries: 0 })).text).toBe('echo pong');
    expect(server.remainingTurns()).toEqual([]);
  });

  it('waits on a delay fault, then answers normally', async () => {
    server.setScript([{ name: 'slow', text: 'late but fine', fault: { kind: 'delay', ms: 5 } }]);
    const result = await generateText({
      model: providers[1]!.model(server.url),
      prompt: 'hi',
      maxRetries: 0,
    });
    expect(result.text).toBe('late but fine');
    expect(server.requests[0]?.answeredWith).toBe('slow');
  });

  it('answers 500 naming the turn whose when() threw', async () => {
    server.setScript([
      {
        name: 'broken',
        when: () => {
          throw new Error('boom');
        },
      },
    ]);
    const error = await generateText({
      model: providers[0]!.model(server.url),
      prompt: 'hi',
      maxRetries: 0,
    }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect((error as APICallError).message).toBe(
      'scripted model server: when() of broken threw on request #0: boom',
    );
  });
});

describe('raw HTTP', () => {
  const jsonHeaders = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };

  it('sends malformed scripted tool arguments verbatim', async () => {
    server.setScript([{ toolCalls: [{ name: 'weather', input: '{"city": ' }] }]);
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: jsonHeaders,
      body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const body = (await response.json()) as { choices: Array<{ message: { tool_calls: unknown[] } }> };
    expect(body.choices[0]!.message.tool_calls).toEqual([
      expect.objectContaining({ function: { name: 'weather', arguments: '{"city": ' } }),
    ]);
  });

  it('serves the routes without the /v1 prefix too', async () => {
    server.setScript([{ text: 'no prefix' }]);
    const model = createOpenAI({ baseURL: server.url, apiKey: API_KEY }).chat('gpt-4.1');
    expect((await generateText({ model, prompt: 'hi', maxRetries: 0 })).text).toBe('no prefix');
    expect(server.requests[0]?.path).toBe('/chat/completions');
  });

  it('lists models in the shape the headers ask for', async () => {
    const anthropic = await fetch(`${server.url}/v1/models`, {
      headers: { 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01' },
    });
    expect(await anthropic.json()).toMatchObject({
      data: [{ type: 'model', id: 'scripted-model' }],
      has_more: false,
    });
    const openai = await fetch(`${server.url}/v1/models`, { headers: jsonHeaders });
    expect(await openai.json()).toMatchObject({
      object: 'list',
      data: [{ id: 'scripted-model', object: 'model' }],
    });
    const gemini = await fetch(`${server.url}/v1beta/models`, { headers: { 'x-goog-api-key': API_KEY } });
    expect(await gemini.json()).toMatchObject({ models: [{ name: 'models/scripted-model' }] });
    const unauthorized = await fetch(`${server.url}/v1/models`, {
      headers: { authorization: 'Bearer sk-wrong' },
    });
    expect(unauthorized.status).toBe(401);
    expect(server.requests).toEqual([]);
  });

  it('estimates tokens for Anthropic count_tokens and Gemini countTokens', async () => {
    const anthropic = await fetch(`${server.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        messages: [{ role: 'user', content: 'twelve chars' }],
      }),
    });
    expect(await anthropic.json()).toEqual({ input_tokens: 3 });
    const gemini = await fetch(`${server.url}/v1beta/models/gemini-2.5-flash:countTokens?key=${API_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'twelve chars' }] }] }),
    });
    expect(await gemini.json()).toEqual({ totalTokens: 3 });
  });

  it('answers 404 for unknown routes and 400 for bodies that are not JSON', async () => {
    const missing = await fetch(`${server.url}/v1/nothing`, { headers: jsonHeaders });
    expect(missing.status).toBe(404);
    const broken = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: jsonHeaders,
      body: '{not json',
    });
    expect(broken.status).toBe(400);
    expect(server.requests[0]).toMatchObject({ answeredWith: 'error', body: '{not json' });
    expect(server.httpLog.slice(-2)).toEqual([
      { method: 'GET', path: '/v1/nothing', status: 404 },
      { method: 'POST', path: '/v1/chat/completions', status: 400 },
    ]);
  });
});
