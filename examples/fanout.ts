// A plan computed in code: one build task per line of services.txt, a test task per build,
// and a report that waits for all of them. Needs no engine and no API key.
// Check it:    deno task maestro validate examples/fanout.ts
// See it:      deno task maestro graph examples/fanout.ts
//
// A plan module runs in a sandbox: it may read files in its own folder (as here), nothing
// else. The list is read when the plan is loaded, so adding a line adds two tasks.
import { plan } from "@maestro/core";

const services = Deno.readTextFileSync(new URL("./services.txt", import.meta.url))
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"));

export default plan({
  name: "fanout",
  goal: "Build and test every service listed in services.txt",
  maxParallel: 3,
  defaults: { timeoutSec: 30 },
})
  .task("prepare", { command: "mkdir -p .maestro-scratch" })
  .each(services, (p, service) =>
    p
      .task(`build-${service}`, {
        dependsOn: ["prepare"],
        tags: ["build", service],
        command: `echo "building ${service}" > .maestro-scratch/${service}.build`,
      })
      .task(`test-${service}`, {
        dependsOn: [`build-${service}`],
        tags: ["test", service],
        command: ["sh", "-c", `test -s .maestro-scratch/${service}.build && echo ok`],
      }))
  .task("report", {
    description: "Runs after every test task",
    dependsOn: services.map((service) => `test-${service}` as const),
    command: `echo "${services.length} services built and tested"`,
  });
