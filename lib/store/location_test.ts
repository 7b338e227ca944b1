import assert from "node:assert/strict";
import { MaestroError } from "../errors.ts";
import { displayLocation, parseStoreLocation } from "./location.ts";

const opts = { cwd: "/work/here", source: "--db" };

function rejects(text: string, pattern: RegExp): void {
  assert.throws(() => parseStoreLocation(text, opts), (error: unknown) => {
    assert.ok(error instanceof MaestroError);
    assert.equal(error.code, "E121");
    assert.equal(error.exitCode, 2);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("parseStoreLocation() resolves plain and file: paths against cwd", () => {
  assert.deepEqual(parseStoreLocation("x/m.db", opts), { kind: "file", path: "/work/here/x/m.db" });
  assert.deepEqual(parseStoreLocation("/abs/m.db", opts), { kind: "file", path: "/abs/m.db" });
  assert.deepEqual(parseStoreLocation("file:rel.db", opts), {
    kind: "file",
    path: "/work/here/rel.db",
  });
  assert.deepEqual(parseStoreLocation("file:///abs/a%20b.db", opts), {
    kind: "file",
    path: "/abs/a b.db",
  });
  // a colon in a file name is not a scheme
  assert.deepEqual(parseStoreLocation("run:1.db", opts), {
    kind: "file",
    path: "/work/here/run:1.db",
  });
});

Deno.test("parseStoreLocation() accepts http, https and libsql URLs with the env token", () => {
  assert.deepEqual(
    parseStoreLocation("http://127.0.0.1:8080", { ...opts, authToken: "tok" }),
    { kind: "remote", url: "http://127.0.0.1:8080", authToken: "tok" },
  );
  assert.deepEqual(parseStoreLocation("libsql://db.example.com", opts), {
    kind: "remote",
    url: "libsql://db.example.com",
    authToken: undefined,
  });
  const withToken = parseStoreLocation("https://db.example.com/?authToken=abc", opts);
  assert.equal(withToken.kind === "remote" && withToken.authToken, "abc");
});

Deno.test("parseStoreLocation() rejects what cannot name a store, with exit code 2", () => {
  rejects("", /is empty/);
  rejects("postgres://db/x", /unsupported scheme "postgres:"/);
  rejects("ws://127.0.0.1:8080", /"ws:" is not supported/);
  rejects("http://", /not a valid URL|no host/);
  rejects("http://h:8080/#frag", /fragments/);
  rejects("http://h:8080/?foo=1", /unsupported URL parameter "foo"/);
  rejects("/tmp", /is a folder/);
  rejects("file:", /no path/);
});

Deno.test("displayLocation() never shows credentials and shortens paths under cwd", () => {
  assert.equal(
    displayLocation(
      { kind: "remote", url: "https://u:p@db.example.com/?authToken=secret", authToken: "x" },
    ),
    "https://db.example.com/",
  );
  assert.equal(
    displayLocation({ kind: "file", path: "/work/here/.maestro/maestro.db" }, "/work/here"),
    ".maestro/maestro.db",
  );
  assert.equal(displayLocation({ kind: "file", path: "/other/m.db" }, "/work/here"), "/other/m.db");
});
