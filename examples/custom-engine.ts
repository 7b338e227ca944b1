// The TypeScript twin of custom-engine.yaml: the same plan, lowered to the same IR.
// Run it:      deno task maestro run examples/custom-engine.ts
// The plan module runs sandboxed; the engine module it names (engines/shout.ts) does not: the
// runtime imports it in maestro's own process.
import { plan } from "@maestro/core";

export default plan({
  version: 1,
  name: "custom-engine",
  engines: { shout: "./engines/shout.ts" },
})
  .task("draft", {
    engine: "shout",
    prompt: "custom engines are plain typescript modules",
  })
  .task("whisper", {
    description: "The model picks what the adapter does (upper or lower)",
    dependsOn: ["draft"],
    engine: "shout",
    model: "lower",
    prompt: "The draft said: {{ draft.result_text }}",
  })
  .task("report", {
    dependsOn: ["whisper"],
    command: 'echo "whisper answered {{ whisper.status }}"',
  });
