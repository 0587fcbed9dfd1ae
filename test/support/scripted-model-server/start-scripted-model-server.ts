/**
 * A loopback HTTP server that speaks the real model vendors' wire protocols (Anthropic Messages,
 * OpenAI chat completions and Responses, Gemini), streaming and not, plays a script of answers and
 * records every generation request. Point a real AI SDK provider or a real agent CLI at `url`.
 *
 * Answers go out at once, one write per server-sent event, over keep-alive connections: a bench can
 * measure a client's own per-step overhead against it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { sleep } from '../../../src/core/sleep.ts';
import { createAnthropicProtocol } from './anthropic-protocol.ts';
import { createGeminiProtocol } from './gemini-protocol.ts';
import { createModelAnswer, estimateTokens, type ModelAnswer } from './model-answer.ts';
import { createOpenAIChatProtocol } from './openai-chat-protocol.ts';
import { createOpenAIResponsesProtocol } from './openai-responses-protocol.ts';
import type { ModelProtocol, RecordedModelRequest } from './recorded-model-request.ts';
import { allText } from './request-predicates.ts';
import { routeRequest, type Route } from './route-request.ts';
import type { ModelScript, ScriptedTurn } from './scripted-turn.ts';
import { createTurnSelector } from './turn-selector.ts';
import type { StreamEvent, WireProtocol } from './wire-protocol.ts';

/** How to start a scripted model server. */
export interface ScriptedModelServerOptions {
  script: ModelScript;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Require this API key (`x-api-key`, `Authorization: Bearer`, `x-goog-api-key` or `?key=`); 401 otherwise. */
  apiKey?: string;
  /** Model ids the listing endpoints name. Default `['scripted-model']`; any id is served regardless. */
  models?: string[];
}

/** One HTTP request the server saw, of any kind, for debugging what a client called. */
export interface HttpExchange {
  method: string;
  path: string;
  /** The status answered; 0 while in flight or when the connection was cut before a status. */
  status: number;
}

/** A running scripted model server. */
export interface ScriptedModelServer {
  /** `http://127.0.0.1:PORT`; SDKs take `url + '/v1'` (Anthropic, OpenAI) or `url + '/v1beta'` (Gemini). */
  url: string;
  /** Every generation request, in arrival order, answered or not. */
  requests: RecordedModelRequest[];
  /** Every HTTP request, model listings and token counts included. */
  httpLog: HttpExchange[];
  /** Turns not yet played. */
  remainingTurns(): ScriptedTurn[];
  /** Replaces the script; turns of the old one are forgotten. */
  setScript(script: ModelScript): void;
  /** Cuts open connections and pending delays, and stops listening. */
  close(): Promise<void>;
}

// why: a loopback-only default; tests never need the server reachable from elsewhere.
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_MODELS = ['scripted-model'];

/** Starts a scripted model server; resolves once it listens. */
export async function startScriptedModelServer(
  options: ScriptedModelServerOptions,
): Promise<ScriptedModelServer> {
  const protocols: Record<ModelProtocol, WireProtocol> = {
    anthropic: createAnthropicProtocol(),
    'openai-chat': createOpenAIChatProtocol(),
    'openai-responses': createOpenAIResponsesProtocol(),
    gemini: createGeminiProtocol(),
  };
  const models = options.models ?? DEFAULT_MODELS;
  const selector = createTurnSelector(options.script);
  const requests: RecordedModelRequest[] = [];
  const httpLog: HttpExchange[] = [];
  const closing = new AbortController();
  let answerSequence = 0;

  const isAuthorized = (headers: Record<string, string>, url: URL): boolean => {
    if (options.apiKey === undefined) return true;
    const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1];
    const offered = [
      headers['x-api-key'],
      bearer,
      headers['x-goog-api-key'],
      url.searchParams.get('key') ?? undefined,
    ];
    return offered.includes(options.apiKey);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = request.url ?? '/';
    const url = new URL(path, 'http://scripted-model-server.invalid');
    const method = request.method ?? 'GET';
    const headers = flattenHeaders(request);
    const exchange: HttpExchange = { method, path, status: 0 };
    httpLog.push(exchange);
    response.once('close', () => {
      exchange.status = response.headersSent ? response.statusCode : 0;
    });

    const route: Route = routeRequest(method, url, headers);
    const protocol = protocols[route.protocol];
    const rawBody = await readBody(request);
    const sendError = (status: number, message: string, extraHeaders: Record<string, string> = {}): void => {
      sendJson(response, status, protocol.errorBody(status, message), extraHeaders);
    };

    if (route.kind === 'not-found') {
      sendError(404, `scripted model server: no route for ${method} ${url.pathname}`);
      return;
    }
    if (route.kind === 'list-models' || route.kind === 'get-model') {
      if (!isAuthorized(headers, url)) return sendError(401, 'scripted model server: invalid API key');
      sendJson(
        response,
        200,
        route.kind === 'list-models' ? protocol.modelList(models) : protocol.modelInfo(route.model),
      );
      return;
    }

    let body: unknown;
    let bodyError: string | undefined;
    try {
      body = JSON.parse(rawBody) as unknown;
    } catch (error) {
      body = rawBody;
      bodyError = `scripted model server: the request body is not JSON (${(error as Error).message})`;
    }
    const conversation =
      bodyError === undefined
        ? protocol.readConversation(body, route.facts)
        : {
            model: route.facts.model ?? '',
            stream: route.facts.stream ?? false,
            system: '',
            messages: [],
            tools: [],
          };

    if (route.kind === 'count-tokens') {
      if (!isAuthorized(headers, url)) return sendError(401, 'scripted model server: invalid API key');
      if (bodyError !== undefined) return sendError(400, bodyError);
      const tokens = estimateTokens(allText(conversation));
      sendJson(
        response,
        200,
        route.protocol === 'anthropic' ? { input_tokens: tokens } : { totalTokens: tokens },
      );
      return;
    }

    const record: RecordedModelRequest = {
      index: requests.length,
      protocol: route.protocol,
      path,
      headers,
      ...conversation,
      body,
    };
    requests.push(record);
    if (!isAuthorized(headers, url)) {
      record.answeredWith = 'error';
      return sendError(401, 'scripted model server: invalid API key');
    }
    if (bodyError !== undefined) {
      record.answeredWith = 'error';
      return sendError(400, bodyError);
    }
    const selection = selector.select(record);
    if ('error' in selection) {
      record.answeredWith = 'error';
      // why: official vendor SDKs (Claude Code, openai-node) honour x-should-retry, so a script gap
      // fails at once instead of after minutes of retries.
      return sendError(500, selection.error, { 'x-should-retry': 'false' });
    }
    const { turn, label } = selection;
    record.turnName = label;
    const fault = turn.fault;

    if (fault?.kind === 'delay') await sleep(fault.ms, closing.signal);
    if (closing.signal.aborted) return;
    if (fault?.kind === 'http-error') {
      record.answeredWith = 'fault';
      const faultHeaders: Record<string, string> =
        fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      if (fault.body !== undefined) {
        sendText(response, fault.status, fault.body, { 'content-type': 'application/json', ...faultHeaders });
        return;
      }
      return sendError(
        fault.status,
        `scripted model server: scripted HTTP ${fault.status} (${label})`,
        faultHeaders,
      );
    }

    const answer = createModelAnswer(turn, record, answerSequence++);
    const cutAfter = fault?.kind === 'cut-stream' ? fault.afterChunks : undefined;
    record.answeredWith = cutAfter === undefined ? label : 'fault';
    // Gemini streams a JSON array unless asked for SSE (`alt=sse`, what every SDK asks for).
    const format = !record.stream
      ? 'json'
      : route.protocol === 'gemini' && url.searchParams.get('alt') !== 'sse'
        ? 'json-array'
        : 'sse';
    writeAnswer(request, response, format, protocol, answer, record, cutAfter);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        request.socket.destroy();
        return;
      }
      sendText(
        response,
        500,
        JSON.stringify({ error: { message: `scripted model server: ${String(error)}` } }),
        {
          'content-type': 'application/json',
        },
      );
    });
  });
  const host = options.host ?? DEFAULT_HOST;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    requests,
    httpLog,
    remainingTurns: () => selector.remaining(),
    setScript: (script) => selector.replace(script),
    close: async () => {
      closing.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

function flattenHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** The request body as text, decompressed when the client compressed it. */
async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const encoding = request.headers['content-encoding'];
  if (encoding === 'gzip') return gunzipSync(raw).toString('utf8');
  if (encoding === 'deflate') return inflateSync(raw).toString('utf8');
  if (encoding === 'br') return brotliDecompressSync(raw).toString('utf8');
  return raw.toString('utf8');
}

/**
 * Writes `answer` as JSON, a JSON array of stream chunks, or server-sent events. With `cutAfter`, writes
 * only part of it (that many events, or half the JSON) and then destroys the socket; 0 writes nothing.
 */
function writeAnswer(
  request: IncomingMessage,
  response: ServerResponse,
  format: 'json' | 'json-array' | 'sse',
  protocol: WireProtocol,
  answer: ModelAnswer,
  record: RecordedModelRequest,
  cutAfter: number | undefined,
): void {
  const cut = (): void => {
    request.socket.destroy();
  };
  if (cutAfter === 0) return cut();
  if (format !== 'sse') {
    const body =
      format === 'json'
        ? protocol.jsonAnswer(answer, record)
        : protocol.streamEvents(answer, record).map((event) => event.data);
    const text = JSON.stringify(body);
    if (cutAfter === undefined) return sendText(response, 200, text, { 'content-type': 'application/json' });
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    response.write(text.slice(0, Math.floor(text.length / 2)), cut);
    return;
  }
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  const events = protocol.streamEvents(answer, record);
  const frames = (cutAfter === undefined ? events : events.slice(0, cutAfter)).map(formatEvent);
  frames.forEach((frame, index) => {
    if (cutAfter !== undefined && index === frames.length - 1) response.write(frame, cut);
    else response.write(frame);
  });
  if (cutAfter === undefined) response.end();
}

function formatEvent(event: StreamEvent): string {
  const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
  return `${event.event !== undefined ? `event: ${event.event}\n` : ''}data: ${data}\n\n`;
}

function sendText(
  response: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string>,
): void {
  response.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  sendText(response, status, JSON.stringify(body), { 'content-type': 'application/json', ...extraHeaders });
}
