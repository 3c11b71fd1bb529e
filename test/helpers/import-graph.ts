/**
 * Walks the ES-module graph a browser would load, starting from served URL paths, with
 * the TypeScript parser (so comments and strings cannot fool it). Follows static
 * imports, re-exports, `import('literal')` and worker scripts named as
 * `new URL('literal', import.meta.url)`. Reports every specifier a browser could not
 * load unbundled (`node:` modules and bare package names) and every dynamic import or
 * require() whose target cannot be seen.
 */
import { readFileSync, existsSync } from 'node:fs';
import ts from 'typescript';

export interface GraphResult {
  /** URL paths visited, in order. */
  visited: string[];
  /** Problems found, each naming the importing URL and the specifier. */
  problems: string[];
}

/** `resolveFile(urlPath)` maps a served URL path to a file on disk (null: not served). */
export function walkBrowserGraph(roots: string[], resolveFile: (urlPath: string) => string | null): GraphResult {
  const visited: string[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  const queue = [...roots];

  while (queue.length > 0) {
    const urlPath = queue.shift()!;
    if (seen.has(urlPath)) continue;
    seen.add(urlPath);
    const file = resolveFile(urlPath);
    if (!file || !existsSync(file)) { problems.push(`${urlPath}: not served (no file)`); continue; }
    visited.push(urlPath);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);

    const follow = (spec: string, how: string): void => {
      if (spec.startsWith('node:')) { problems.push(`${urlPath}: ${how} '${spec}' is a Node module`); return; }
      if (/^[a-z][a-z0-9+.-]*:/i.test(spec)) { problems.push(`${urlPath}: ${how} '${spec}' is an absolute URL (not allowed in the runtime)`); return; }
      if (!spec.startsWith('./') && !spec.startsWith('../') && !spec.startsWith('/')) {
        problems.push(`${urlPath}: ${how} '${spec}' is a bare specifier a browser cannot resolve without a bundler or import map`);
        return;
      }
      queue.push(new URL(spec, `http://x${urlPath}`).pathname);
    };

    const visit = (node: ts.Node): void => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        follow(node.moduleSpecifier.text, 'import');
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const arg = node.arguments[0];
        if (arg && ts.isStringLiteralLike(arg)) follow(arg.text, 'import()');
        else problems.push(`${urlPath}: import() with a computed specifier (${node.getText(source)}) cannot be checked`);
      } else if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') {
        problems.push(`${urlPath}: require() is not available in a browser (${node.getText(source)})`);
      } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'URL'
        && node.arguments?.length === 2 && ts.isStringLiteralLike(node.arguments[0]!)
        && node.arguments[1]!.getText(source) === 'import.meta.url' && /\.m?js$/.test(node.arguments[0].text)) {
        follow(node.arguments[0].text, 'worker script');
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { visited, problems };
}
