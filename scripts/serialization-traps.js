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
    if ((ts.isForStatement(node) || ts.isForOfStatement(node) || ts.isForInStatement(node)) && node.initializer && ts.isVariableDeclarationList(node.initializer) && (node.initializer.flags & ts.NodeFlags.Let)) {
      const names = new Set();
      node.initializer.declarations.forEach((d) => collectBindingNames(d.name, names));
      const captured = capturedInClosures(node.statement, names);
      if (captured.length)
        at(node, `the loop variable \`${captured[0]}\` is captured by a closure in the loop; the closure transform boxes it and it is undefined at run time - copy it into a const inside the loop`);
    }
    if (ts.isShorthandPropertyAssignment(node) && imported.has(node.name.text))
      at(node, `shorthand property of the imported name \`${node.name.text}\` breaks; write \`${node.name.text}: ${node.name.text}\``);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return traps;
}

function collectBindingNames(name, into) {
  if (ts.isIdentifier(name)) into.add(name.text);
  else name.elements.forEach((e) => ts.isBindingElement(e) && collectBindingNames(e.name, into));
}

/** Names from `names` referenced inside a function nested in `body`. */
function capturedInClosures(body, names) {
  const found = [];
  const inFunction = (node, depth) => {
    const isFn = ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node);
    const d = depth + (isFn ? 1 : 0);
    if (d > 0 && ts.isIdentifier(node) && names.has(node.text) && !found.includes(node.text)) found.push(node.text);
    ts.forEachChild(node, (child) => inFunction(child, d));
  };
  inFunction(body, 0);
  return found;
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
