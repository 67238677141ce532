#!/usr/bin/env node
// Compiles the project with ts-closure-transform so closures survive Beam's serializer,
// then refuses the output if the transform did not run or a serialization trap slipped in.
const ts = require("typescript");
const path = require("path");
const fs = require("fs");
const { checkSerializationTraps } = require("./serialization-traps");

const root = path.resolve(__dirname, "..");

function build({ withClosureTransform = true, outDir } = {}) {
  const configPath = path.join(root, "tsconfig.json");
  const overrides = outDir ? { outDir } : {};
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, overrides, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: report });
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const transformers = withClosureTransform ? closureTransformers(program.getTypeChecker()) : {};
  const result = program.emit(undefined, undefined, undefined, false, transformers);
  const diagnostics = ts.getPreEmitDiagnostics(program).concat(result.diagnostics);
  diagnostics.forEach(report);
  if (diagnostics.some((d) => d.category === ts.DiagnosticCategory.Error)) process.exit(1);
  return { outDir: parsed.options.outDir };
}

function closureTransformers(checker) {
  const { beforeTransform, afterTransform } = require("ts-closure-transform");
  return { before: [typeImportElision(checker), beforeTransform()], after: [afterTransform()] };
}

/**
 * Removes the imports that bring in types only (`import type`, `{ type X }`, or names that are
 * not values), as plain tsc would. ts-closure-transform rewrites every import declaration into a
 * `require` plus one variable per name, so without this a type import loads its module at run
 * time: `import type { EntityConfig } from "../model/source-config"` loaded zod into every
 * cleaning worker, `import type { File } from "@google-cloud/storage"` the Storage client.
 * Side-effect imports (`import "./x"`) and namespace imports are kept.
 */
function typeImportElision(checker) {
  const isValue = (identifier) => {
    let symbol = checker.getSymbolAtLocation(identifier);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    return !symbol || (symbol.flags & ts.SymbolFlags.Value) !== 0;
  };
  const elide = (statement) => {
    if (!ts.isImportDeclaration(statement) || !statement.importClause) return statement;
    const clause = statement.importClause;
    if (clause.isTypeOnly) return undefined;
    const name = clause.name && isValue(clause.name) ? clause.name : undefined;
    let bindings = clause.namedBindings;
    if (bindings && ts.isNamedImports(bindings)) {
      const values = bindings.elements.filter((e) => !e.isTypeOnly && isValue(e.name));
      bindings = values.length === bindings.elements.length ? bindings : values.length ? ts.factory.updateNamedImports(bindings, values) : undefined;
    }
    if (name === clause.name && bindings === clause.namedBindings) return statement;
    if (!name && !bindings) return undefined;
    const kept = ts.factory.updateImportClause(clause, false, name, bindings);
    return ts.factory.updateImportDeclaration(statement, statement.modifiers, kept, statement.moduleSpecifier, statement.attributes);
  };
  return () => (sourceFile) => {
    const statements = sourceFile.statements.map(elide).filter((s) => s !== undefined);
    return statements.length === sourceFile.statements.length && statements.every((s, i) => s === sourceFile.statements[i])
      ? sourceFile
      : ts.factory.updateSourceFile(sourceFile, statements);
  };
}

function report(d) {
  const msg = ts.flattenDiagnosticMessageText(d.messageText, "\n");
  if (d.file) {
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    console.error(`${path.relative(root, d.file.fileName)}:${line + 1}:${character + 1} ${msg}`);
  } else console.error(msg);
}

/** True when the sentinel module was emitted with the transform's `__closure` marker. */
function closureTransformRan(outDir) {
  const sentinel = path.join(outDir, "model", "closure-sentinel.js");
  return fs.existsSync(sentinel) && fs.readFileSync(sentinel, "utf8").includes(".__closure =");
}

if (require.main === module) {
  const withClosureTransform = !process.argv.includes("--no-closure-transform");
  const outDir = process.argv.includes("--out") ? process.argv[process.argv.indexOf("--out") + 1] : undefined;
  const traps = checkSerializationTraps(root);
  if (traps.length) {
    for (const t of traps) console.error(`${t.file}:${t.line}: ${t.message}`);
    console.error(`build refused: ${traps.length} serialization trap(s), see ../shared/notes/beam-typescript-sdk.md`);
    process.exit(1);
  }
  const built = build({ withClosureTransform, outDir });
  if (!closureTransformRan(built.outDir)) {
    console.error("build refused: ts-closure-transform did not run (dist/model/closure-sentinel.js has no __closure); closures would break on workers");
    process.exit(1);
  }
}

module.exports = { build, closureTransformRan };
