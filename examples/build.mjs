// Bundles the examples (plain HTML, React, Vue) with esbuild: OUTDIR/<name>/ gets the page, its
// bundle and the package's WebAssembly (esbuild does not copy it; the package loads it from
// next to the bundle). Serve OUTDIR with the collector and `--forms examples/forms`.
//
//   node examples/build.mjs OUTDIR [NODE_MODULES_DIR ...]
//
// `bantam-form`, React and Vue are found in the given folders, by default target/npm (where
// `scripts/dev build` puts the package) and tools/node_modules. The tests pass the folder they
// installed the packed package into instead.
import { createRequire } from "node:module";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const tools = createRequire(join(ROOT, "tools/package.json"));
const esbuild = tools("esbuild");

export const EXAMPLES = { html: "main.js", react: "main.jsx", vue: "main.js" };

/** Compiles Vue single-file components, telling Vue's compiler that <bantam-form> is an element. */
const vuePlugin = {
  name: "vue",
  setup(build) {
    const sfc = tools("vue/compiler-sfc");
    build.onLoad({ filter: /\.vue$/ }, async ({ path }) => {
      const { descriptor, errors } = sfc.parse(await readFile(path, "utf8"), { filename: path });
      if (errors.length) throw errors[0];
      const script = sfc.compileScript(descriptor, {
        id: path,
        inlineTemplate: true,
        templateOptions: { compilerOptions: { isCustomElement: (tag) => tag === "bantam-form" } },
      });
      return { contents: script.content, loader: "js", resolveDir: dirname(path) };
    });
  },
};

/** Builds every example into `outdir`; `nodePaths` are the folders packages are found in. */
export async function buildExamples(outdir, nodePaths) {
  const packageDir = nodePaths.map((p) => join(p, "bantam-form")).find((p) => existsSync(join(p, "package.json")));
  if (!packageDir) throw new Error(`bantam-form is in none of ${nodePaths.join(", ")}`);
  for (const [name, entry] of Object.entries(EXAMPLES)) {
    const out = join(outdir, name);
    await mkdir(out, { recursive: true });
    await esbuild.build({
      entryPoints: [join(HERE, name, entry)],
      bundle: true,
      format: "esm",
      minify: true,
      outfile: join(out, "main.js"),
      nodePaths,
      jsx: "automatic",
      plugins: [vuePlugin],
      define: {
        "process.env.NODE_ENV": '"production"',
        __VUE_OPTIONS_API__: "false",
        __VUE_PROD_DEVTOOLS__: "false",
        __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false",
      },
      logLevel: "warning",
    });
    await copyFile(join(HERE, name, "index.html"), join(out, "index.html"));
    await copyFile(join(packageDir, "bantam_core_bg.wasm"), join(out, "bantam_core_bg.wasm"));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [outdir, ...dirs] = process.argv.slice(2);
  if (!outdir) {
    console.error("usage: node examples/build.mjs OUTDIR [NODE_MODULES_DIR ...]");
    process.exit(2);
  }
  const nodePaths = dirs.length ? dirs.map((d) => resolve(d)) : [join(ROOT, "target/npm"), join(ROOT, "tools/node_modules")];
  await buildExamples(resolve(outdir), nodePaths);
  console.log(`examples built in ${outdir}: ${Object.keys(EXAMPLES).map((n) => `${n}/`).join(", ")}`);
}
