import assert from "node:assert/strict";
import { classifyVar, renderTemplate, templateVars } from "./template.ts";

Deno.test("templateVars() finds every placeholder with or without spaces", () => {
  assert.deepEqual(templateVars("{{a.status}} and {{ b.exit_code }} {{  goal }}"), [
    "a.status",
    "b.exit_code",
    "goal",
  ]);
});

Deno.test("classifyVar() resolves task ids that contain dots and slashes", () => {
  const ids = new Set(["t.os-linux", "build", "lib/compile"]);
  assert.deepEqual(classifyVar("t.os-linux.status", ids), {
    kind: "upstream",
    task: "t.os-linux",
    field: "status",
  });
  assert.deepEqual(classifyVar("lib/compile.output.path", ids), {
    kind: "upstream",
    task: "lib/compile",
    field: "output.path",
  });
  assert.deepEqual(classifyVar("biuld.status", ids), {
    kind: "unknown_task",
    task: "biuld",
    field: "status",
  });
  assert.deepEqual(classifyVar("matrix.os", ids), { kind: "matrix", key: "os" });
  assert.deepEqual(classifyVar("workspace_root", ids), { kind: "global", name: "workspace_root" });
  assert.deepEqual(classifyVar("release", ids, new Set(["release"])), {
    kind: "set",
    name: "release",
  });
  assert.deepEqual(classifyVar("whatever", ids), { kind: "unknown", name: "whatever" });
});

Deno.test("renderTemplate() keeps unknown placeholders verbatim", () => {
  const out = renderTemplate("{{ a }}-{{ b }}", (name) => (name === "a" ? "1" : undefined));
  assert.equal(out, "1-{{ b }}");
});
