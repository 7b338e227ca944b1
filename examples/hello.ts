// The TypeScript twin of hello.yaml: the same plan, lowered to the same IR.
// Check it:    deno task maestro validate examples/hello.ts
// Run it:      deno task maestro run examples/hello.ts
import { plan } from "@maestro/core";

export default plan({
  version: 1,
  name: "hello",
  goal: "Show how tasks, dependencies, templates and conditions fit together",
  maxParallel: 2,
  failFast: true,
  defaults: {
    timeoutSec: 60,
    env: { GREETING: "hello" },
  },
})
  .task("prepare", {
    description: "Make a scratch folder",
    command: 'mkdir -p .maestro-scratch && echo "prepared for {{ plan_name }}"',
  })
  .task("count-words", {
    description: "Count the words of this plan file",
    dependsOn: ["prepare"],
    command: "wc -w < hello.yaml",
  })
  .task("greet", {
    description: "Say hello in parallel with count-words",
    dependsOn: ["prepare"],
    command: ["sh", "-c", 'echo "$GREETING from task {{ task_id }}"'],
  })
  .task("report", {
    description: "Runs only when both upstream tasks succeeded",
    dependsOn: ["count-words", "greet"],
    when: "{{ count-words.status }} == success and {{ greet.exit_code }} == 0",
    command: 'echo "words counted ({{ count-words.status }}), greeting done ({{ greet.status }})"',
  });
