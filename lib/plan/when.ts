/**
 * The `when:` condition language. It accepts the reference tool's form
 * (`{{ build.status }} == success`) and a small expression grammar on top:
 *
 * ```text
 * expr    := or
 * or      := and ("or" and)*
 * and     := unary ("and" unary)*
 * unary   := "not" unary | compare
 * compare := operand (("==" | "!=") operand)?
 * operand := "(" expr ")" | STRING | NUMBER | "{{ var }}" | FUNC "()" | BAREWORD
 * ```
 *
 * Barewords (`success`, `soft_failed`) are string literals; functions are `success()`,
 * `failure()` and `always()`. Expressions are parsed at load time, so a malformed one is a
 * validation error, not a silent skip at run time.
 *
 * @module
 */

/** A parsed `when:` expression (plain JSON, stored in the IR). */
export type WhenExpr =
  | { op: "or" | "and"; left: WhenExpr; right: WhenExpr }
  | { op: "not"; expr: WhenExpr }
  | { op: "==" | "!="; left: WhenExpr; right: WhenExpr }
  | { op: "lit"; value: string }
  | { op: "var"; name: string }
  | { op: "call"; name: "success" | "failure" | "always" };

/** A syntax error with the 1-based column in the expression text. */
export class WhenSyntaxError extends Error {
  /** 1-based column within the expression. */
  readonly column: number;
  /**
   * @param message what is wrong
   * @param column where (1-based)
   */
  constructor(message: string, column: number) {
    super(message);
    this.name = "WhenSyntaxError";
    this.column = column;
  }
}

type Token =
  | { type: "var" | "str" | "num" | "word"; value: string; pos: number }
  | { type: "op"; value: "==" | "!=" | "(" | ")"; pos: number }
  | { type: "func"; value: string; pos: number }
  | { type: "end"; pos: number };

const FUNCTIONS = new Set(["success", "failure", "always"]);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (source.startsWith("{{", i)) {
      const end = source.indexOf("}}", i + 2);
      if (end < 0) throw new WhenSyntaxError("unclosed '{{'", i + 1);
      const name = source.slice(i + 2, end).trim();
      if (!/^[a-zA-Z0-9_.\-/]+$/.test(name)) {
        throw new WhenSyntaxError(`invalid variable name '${name}'`, i + 1);
      }
      tokens.push({ type: "var", value: name, pos: i });
      i = end + 2;
    } else if (source.startsWith("==", i) || source.startsWith("!=", i)) {
      tokens.push({ type: "op", value: source.slice(i, i + 2) as "==" | "!=", pos: i });
      i += 2;
    } else if (ch === "(" || ch === ")") {
      tokens.push({ type: "op", value: ch, pos: i });
      i++;
    } else if (ch === "'" || ch === '"') {
      const end = source.indexOf(ch, i + 1);
      if (end < 0) throw new WhenSyntaxError("unterminated string", i + 1);
      tokens.push({ type: "str", value: source.slice(i + 1, end), pos: i });
      i = end + 1;
    } else {
      const match = /^[A-Za-z0-9_.\-/]+/.exec(source.slice(i));
      if (!match) throw new WhenSyntaxError(`unexpected character '${ch}'`, i + 1);
      const word = match[0];
      const after = source.slice(i + word.length);
      const call = /^\s*\(\s*\)/.exec(after);
      if (call && FUNCTIONS.has(word)) {
        tokens.push({ type: "func", value: word, pos: i });
        i += word.length + call[0].length;
      } else if (call) {
        throw new WhenSyntaxError(
          `unknown function '${word}()' (known: success(), failure(), always())`,
          i + 1,
        );
      } else {
        const type = /^-?\d+(\.\d+)?$/.test(word) ? "num" : "word";
        tokens.push({ type, value: word, pos: i });
        i += word.length;
      }
    }
  }
  tokens.push({ type: "end", pos: source.length });
  return tokens;
}

/**
 * Parses a `when:` expression.
 *
 * @param source the expression text
 * @returns the expression tree
 * @throws {WhenSyntaxError} when the text is not a valid expression
 */
export function parseWhen(source: string): WhenExpr {
  const tokens = tokenize(source);
  let at = 0;
  const peek = () => tokens[at]!;
  const isWord = (word: string) => {
    const token = peek();
    return token.type === "word" && token.value === word;
  };
  const describe = (token: Token) =>
    token.type === "end" ? "end of expression" : `'${token.value}'`;

  const parseOr = (): WhenExpr => {
    let left = parseAnd();
    while (isWord("or")) {
      at++;
      left = { op: "or", left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): WhenExpr => {
    let left = parseUnary();
    while (isWord("and")) {
      at++;
      left = { op: "and", left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): WhenExpr => {
    if (isWord("not")) {
      at++;
      return { op: "not", expr: parseUnary() };
    }
    const left = parseOperand();
    const token = peek();
    if (token.type === "op" && (token.value === "==" || token.value === "!=")) {
      at++;
      return { op: token.value, left, right: parseOperand() };
    }
    return left;
  };
  const parseOperand = (): WhenExpr => {
    const token = peek();
    at++;
    switch (token.type) {
      case "var":
        return { op: "var", name: token.value };
      case "str":
      case "num":
        return { op: "lit", value: token.value };
      case "word":
        if (token.value === "and" || token.value === "or" || token.value === "not") break;
        return { op: "lit", value: token.value };
      case "func":
        return { op: "call", name: token.value as "success" | "failure" | "always" };
      case "op":
        if (token.value === "(") {
          const inner = parseOr();
          const close = peek();
          if (close.type !== "op" || close.value !== ")") {
            throw new WhenSyntaxError(`expected ')' but found ${describe(close)}`, close.pos + 1);
          }
          at++;
          return inner;
        }
        break;
      case "end":
        break;
    }
    throw new WhenSyntaxError(`expected a value but found ${describe(token)}`, token.pos + 1);
  };

  if (peek().type === "end") throw new WhenSyntaxError("empty expression", 1);
  const expr = parseOr();
  const rest = peek();
  if (rest.type !== "end") {
    throw new WhenSyntaxError(`unexpected ${describe(rest)} after the expression`, rest.pos + 1);
  }
  return expr;
}

/** Every variable name an expression reads. */
export function whenVars(expr: WhenExpr): string[] {
  switch (expr.op) {
    case "or":
    case "and":
    case "==":
    case "!=":
      return [...whenVars(expr.left), ...whenVars(expr.right)];
    case "not":
      return whenVars(expr.expr);
    case "var":
      return [expr.name];
    case "lit":
    case "call":
      return [];
  }
}

/** What an expression can read while it is evaluated. */
export interface WhenContext {
  /** The value of a `{{ var }}`; undefined renders as an empty string. */
  lookup(name: string): string | undefined;
  /** Statuses of the task's direct dependencies. */
  dependencyStatuses: readonly string[];
}

const SUCCESS_LIKE = new Set(["success", "soft_failed", "skipped", "dry_run"]);

function truthy(value: string | boolean): boolean {
  if (typeof value === "boolean") return value;
  return !["", "false", "0", "null", "none"].includes(value.trim().toLowerCase());
}

function text(value: string | boolean): string {
  return typeof value === "boolean" ? String(value) : value.trim();
}

function equal(a: string | boolean, b: string | boolean): boolean {
  const left = text(a);
  const right = text(b);
  const numeric = /^-?\d+(\.\d+)?$/;
  if (numeric.test(left) && numeric.test(right)) return Number(left) === Number(right);
  return left === right;
}

function value(expr: WhenExpr, ctx: WhenContext): string | boolean {
  switch (expr.op) {
    case "or":
      return truthy(value(expr.left, ctx)) || truthy(value(expr.right, ctx));
    case "and":
      return truthy(value(expr.left, ctx)) && truthy(value(expr.right, ctx));
    case "not":
      return !truthy(value(expr.expr, ctx));
    case "==":
      return equal(value(expr.left, ctx), value(expr.right, ctx));
    case "!=":
      return !equal(value(expr.left, ctx), value(expr.right, ctx));
    case "lit":
      return expr.value;
    case "var":
      return ctx.lookup(expr.name) ?? "";
    case "call":
      if (expr.name === "always") return true;
      if (expr.name === "success") return ctx.dependencyStatuses.every((s) => SUCCESS_LIKE.has(s));
      return ctx.dependencyStatuses.some((s) => s === "failed");
  }
}

/**
 * Evaluates a parsed expression.
 *
 * @param expr the expression tree from {@linkcode parseWhen}
 * @param ctx variable values and dependency statuses
 * @returns whether the task should run
 */
export function evaluateWhen(expr: WhenExpr, ctx: WhenContext): boolean {
  return truthy(value(expr, ctx));
}
