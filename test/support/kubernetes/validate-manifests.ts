/**
 * Validation of rendered Kubernetes objects against the published API schemas, offline, in two passes:
 *
 * 1. The JSON schema of each kind (`kubernetes-models`, `@kubernetes-models/keda`): required fields,
 *    types, formats (int32, ...). These schemas allow properties they do not name, as the API server does.
 * 2. The same models' TypeScript types, with the compiler: each object is written as a literal of its
 *    kind's interface and type-checked, so a field the kind does not have (a typo such as `periodSecond`,
 *    a field at the wrong level) fails, as `kubectl apply --validate=strict` would refuse it.
 *
 * A kind without a model fails too: add its package rather than skipping it.
 */
import path from 'node:path';
import ts from 'typescript';

/** A rendered object: what every Kubernetes object has, and the rest unknown. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** An object to check and a label naming it in messages (e.g. `prod: Deployment/warren-hub`). */
export interface LabelledObject {
  label: string;
  object: KubernetesObject;
}

/** The module of a kind's model: `kubernetes-models/<group>/<version>/<Kind>`, or the KEDA package. */
function modelModuleOf({ apiVersion, kind }: KubernetesObject): string {
  if (apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

type ModelConstructor = new (data: unknown) => { validate(): void };

/** Pass 1: each object against its kind's JSON schema. Returns one message per invalid object. */
export async function validateAgainstSchemas(objects: readonly LabelledObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const { label, object } of objects) {
    const specifier = modelModuleOf(object);
    let Model: ModelConstructor | undefined;
    try {
      const module = (await import(specifier)) as Record<string, unknown>;
      Model = module[object.kind] as ModelConstructor | undefined;
    } catch {
      Model = undefined;
    }
    if (!Model) {
      problems.push(`${label}: no model for ${object.apiVersion} ${object.kind} (looked for ${specifier})`);
      continue;
    }
    try {
      new Model(asDecodedByTheApiServer(object)).validate();
    } catch (error) {
      problems.push(`${label}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return problems;
}

/**
 * The object as the API server reads it, where that is looser than the schema: Go's base64 decoder skips
 * line breaks, and kustomize wraps long Secret values (`data`) across lines.
 */
function asDecodedByTheApiServer(object: KubernetesObject): KubernetesObject {
  if (object.kind !== 'Secret' || typeof object.data !== 'object' || object.data === null) return object;
  const data = Object.fromEntries(
    Object.entries(object.data as Record<string, unknown>).map(([key, value]) => [
      key,
      typeof value === 'string' ? value.replace(/[\r\n]/g, '') : value,
    ]),
  );
  return { ...object, data };
}

/**
 * Pass 2: type-checks every object as a literal of its kind's interface (`IDeployment`, ...). Returns one
 * message per compiler error, with the object's label and the path of the offending field.
 */
export function checkFieldsAgainstTypes(
  objects: readonly LabelledObject[],
  repositoryRoot: string,
): string[] {
  // A file that is never written: it only has to sit in the repository so that node_modules resolve.
  const fileName = path.join(repositoryRoot, 'test', 'support', 'kubernetes', '__rendered-manifests__.ts');
  const lines: string[] = [];
  objects.forEach(({ object }, index) => {
    lines.push(`import type { I${object.kind} as Kind${index} } from '${modelModuleOf(object)}';`);
  });
  const firstObjectLine = lines.length;
  objects.forEach(({ object }, index) => {
    lines.push(`export const object${index}: Kind${index} = ${JSON.stringify(object)};`);
  });
  const text = lines.join('\n');

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (name, languageVersion, ...rest) =>
    name === fileName
      ? ts.createSourceFile(name, text, languageVersion, true)
      : getSourceFile(name, languageVersion, ...rest);
  host.fileExists = (name) => name === fileName || fileExists(name);
  host.readFile = (name) => (name === fileName ? text : readFile(name));

  const program = ts.createProgram([fileName], options, host);
  const source = program.getSourceFile(fileName)!;
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    if (diagnostic.file?.fileName !== fileName || diagnostic.start === undefined) return message;
    const { line } = source.getLineAndCharacterOfPosition(diagnostic.start);
    const entry = objects[line - firstObjectLine];
    if (!entry) return `${message} (in the imports: is there a model for every kind?)`;
    const fieldPath = fieldPathAt(source, diagnostic.start);
    return `${entry.label}: ${fieldPath ? `${fieldPath}: ` : ''}${message}`;
  });
}

/** The JSON path (`spec.template.spec.containers[0].readinessProbe`) of the literal at `position`. */
function fieldPathAt(source: ts.SourceFile, position: number): string {
  let path = '';
  const visit = (node: ts.Node): void => {
    ts.forEachChild(node, (child) => {
      if (position < child.getStart(source) || position >= child.getEnd()) return undefined;
      if (ts.isPropertyAssignment(child)) {
        const name = ts.isStringLiteral(child.name) ? child.name.text : child.name.getText(source);
        path = path ? `${path}.${name}` : name;
      } else if (ts.isArrayLiteralExpression(node)) {
        path += `[${node.elements.indexOf(child as ts.Expression)}]`;
      }
      visit(child);
      return true;
    });
  };
  visit(source);
  return path;
}
