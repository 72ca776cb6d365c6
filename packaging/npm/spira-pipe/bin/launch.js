// Runs the native spira-pipe binary of this machine's platform package (installed through
// optionalDependencies, as esbuild and biome do: nothing is downloaded at install time) as the
// tool this launcher was called for.
"use strict";
const { spawn } = require("child_process");
const path = require("path");

const PLATFORMS = {
  "linux x64": "@spira-pipe/linux-x64",
  "linux arm64": "@spira-pipe/linux-arm64",
  "win32 x64": "@spira-pipe/win32-x64",
  "darwin x64": "@spira-pipe/darwin-x64",
  "darwin arm64": "@spira-pipe/darwin-arm64",
};

function binary() {
  const pkg = PLATFORMS[`${process.platform} ${process.arch}`];
  if (!pkg) {
    throw new Error(`spira-pipe has no binary for ${process.platform} ${process.arch}`);
  }
  const exe = process.platform === "win32" ? "spira-pipe.exe" : "spira-pipe";
  try {
    return require.resolve(`${pkg}/bin/${exe}`);
  } catch (e) {
    throw new Error(`spira-pipe: the package ${pkg} is not installed (npm installs it with spira-pipe unless optional dependencies are left out: npm install --include=optional)`);
  }
}

module.exports = function launch(tool) {
  let exe;
  try {
    exe = binary();
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  const args = tool ? [tool, ...process.argv.slice(2)] : process.argv.slice(2);
  const child = spawn(exe, args, { stdio: "inherit" });
  // A signal for this process is for the tool (spira-post settles its uploads on SIGTERM).
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => child.kill(sig));
  }
  child.on("error", (e) => {
    process.stderr.write(`spira-pipe: cannot run ${path.basename(exe)}: ${e.message}\n`);
    process.exit(2);
  });
  child.on("exit", (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code === null ? 1 : code);
  });
};
