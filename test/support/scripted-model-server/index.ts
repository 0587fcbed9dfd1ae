/**
 * The scripted model server: real vendor wire protocols on loopback, answers from a script, every
 * request recorded. See docs/scripted-model-server.md.
 */
export {
  startScriptedModelServer,
  type HttpExchange,
  type ScriptedModelServer,
  type ScriptedModelServerOptions,
} from './start-scripted-model-server.ts';
export type {
  ModelScript,
  ScriptedFault,
  ScriptedToolCall,
  ScriptedTurn,
  ScriptedUsage,
} from './scripted-turn.ts';
export type {
  ModelProtocol,
  RecordedMessage,
  RecordedModelRequest,
  RecordedTool,
  RecordedToolCall,
  RecordedToolResult,
} from './recorded-model-request.ts';
export {
  allText,
  endsWithToolResult,
  hasToolResult,
  lastToolResult,
  lastUserText,
  offersTool,
} from './request-predicates.ts';
