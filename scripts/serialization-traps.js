// Rejects the constructs that Beam's closure serializer silently breaks
// (../shared/notes/beam-typescript-sdk.md, "Serialization traps").
const ts = require("typescript");
const fs = require("fs");
const path = require("path");

const CHECKED_DIRS = ["model", "pipeline", "sources", "transforms", "sinks", "deploy", "test", "bench"];

function checkSource(fileName, text) {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const imported = new Set();
  const traps = [];
  const at = (node, message) =>
    traps.push({ file: fileName, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1, message });

  sf.statements.forEach((st) => {
    if (ts.isImportDeclaration(st) && st.importClause && !st.importClause.isTypeOnly) {
      const c = st.importClause;
      if (c.name) imported.add(c.name.text);
      if (c.namedBindings && ts.isNamespaceImport(c.namedBindings)) imported.add(c.namedBindings.name.text);
      if (c.namedBindings && ts.isNamedImports(c.namedBindings))
        c.namedBindings.elements.forEach((e) => e.isTypeOnly || imported.add(e.name.text));
    }
  });

  const visit = (node) => {
    const inForOf = (decl) => decl.parent && decl.parent.parent && (ts.isForOfStatement(decl.parent.parent) || ts.isForInStatement(decl.parent.parent));
    if (ts.isVariableDeclaration(node) && ts.isArrayBindingPattern(node.name) && !inForOf(node))
      at(node, "array destructuring in a declaration is dropped by the closure transform; index the array instead");
    if (ts.isMethodDeclaration(node) && ts.isObjectLiteralExpression(node.parent))
      at(node, "object-literal method shorthand cannot be deserialized; write `name: function (...) {...}`");
    if (ts.isShorthandPropertyAssignment(node) && imported.has(node.name.text))
      at(node, `shorthand property of the imported name \`${node.name.text}\` breaks; write \`${node.name.text}: ${node.name.text}\``);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return traps;
}

function checkSerializationTraps(root) {
  const traps = [];
  const walk = (dir) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.ts$/.test(e.name) && !e.name.endsWith(".d.ts"))
        traps.push(...checkSource(path.relative(root, full), fs.readFileSync(full, "utf8")));
    }
  };
  CHECKED_DIRS.forEach((d) => walk(path.join(root, d)));
  return traps;
}

module.exports = { checkSource, checkSerializationTraps };
