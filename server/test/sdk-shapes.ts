import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { expect } from 'vitest';

// For the SDK types still written by hand (Flow, Instance): delete once the flow routes document
// their answers and those types become aliases of generated ones.
export interface SdkField {
  optional: boolean;
  nullable: boolean;
}

const TYPES_FILE = join(__dirname, '../../sdk/src/types.ts');
let source: ts.SourceFile | undefined;

/** The fields of an interface in sdk/src/types.ts (its `extends` included), read with the TypeScript parser. */
export function sdkInterface(name: string): Map<string, SdkField> {
  source ??= ts.createSourceFile(TYPES_FILE, readFileSync(TYPES_FILE, 'utf8'), ts.ScriptTarget.ES2022, true);
  const declaration = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
  if (!declaration) throw new Error(`sdk/src/types.ts has no interface ${name}`);
  const fields = new Map<string, SdkField>();
  for (const clause of declaration.heritageClauses ?? []) for (const parent of clause.types) for (const [k, v] of sdkInterface(parent.expression.getText())) fields.set(k, v);
  for (const member of declaration.members) {
    if (!ts.isPropertySignature(member) || !member.type) continue;
    const type = member.type;
    const nullable = ts.isUnionTypeNode(type) && type.types.some((t) => ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword);
    fields.set(member.name.getText(), { optional: Boolean(member.questionToken), nullable });
  }
  return fields;
}

/** A live answer has exactly the SDK type's fields: none unknown, none required missing, null only where the type allows it. */
export function expectShape(value: unknown, typeName: string): void {
  const fields = sdkInterface(typeName);
  const object = value as Record<string, unknown>;
  const unknownFields = Object.keys(object).filter((k) => !fields.has(k));
  const missing = [...fields].filter(([k, f]) => !f.optional && !(k in object)).map(([k]) => k);
  const unexpectedNull = Object.entries(object)
    .filter(([k, v]) => v === null && fields.has(k) && !fields.get(k)!.nullable)
    .map(([k]) => k);
  expect({ type: typeName, unknownFields, missing, unexpectedNull }).toEqual({ type: typeName, unknownFields: [], missing: [], unexpectedNull: [] });
}
