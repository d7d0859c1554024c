// Runs a workflow's actions/github-script body under node with stub `github`, `context`,
// `core` and `exec` objects, as github-script does (an async function of those names).
// Input (JSON on stdin): {script, zipPath, artifact, prNumber, headSha}. Output: what it did.
const fs = require('fs');
const { execFileSync } = require('child_process');

const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const calls = { failed: [], comments: [], warnings: [] };
const github = {
  rest: {
    actions: {
      listWorkflowRunArtifacts: async () => ({ data: { artifacts: [input.artifact] } }),
      downloadArtifact: async () => ({ data: fs.readFileSync(input.zipPath) }),
    },
    pulls: { get: async () => ({ data: { head: { sha: input.headSha } } }) },
    issues: {
      listComments: 'listComments',
      createComment: async ({ body }) => calls.comments.push(body),
      updateComment: async ({ body }) => calls.comments.push(body),
    },
  },
  paginate: async () => [],
};
const context = { repo: { owner: 'o', repo: 'r' }, payload: { workflow_run: { id: 7, head_sha: input.headSha, html_url: 'https://github.com/o/r/actions/runs/7' } } };
const core = {
  info: () => {},
  warning: (m) => calls.warnings.push(m),
  setFailed: (m) => calls.failed.push(m),
};
const exec = {
  exec: async (cmd, args) => { execFileSync(cmd, args, { stdio: 'ignore' }); return 0; },
  getExecOutput: async (cmd, args) => ({ stdout: execFileSync(cmd, args, { encoding: 'utf8' }), exitCode: 0 }),
};
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
new AsyncFunction('require', 'github', 'context', 'core', 'exec', input.script)(require, github, context, core, exec)
  .then(() => process.stdout.write(JSON.stringify(calls)))
  .catch((error) => { process.stdout.write(JSON.stringify({ ...calls, error: String(error) })); });
