// Compiles a folder's Python sources to bytecode with Pyodide's CPython (a WebAssembly build of
// the runtime's Python version), for a Lambda runtime this machine has no interpreter for.
// node compile.mjs <folder> <ddir> -> prints the Python version it compiled with.
import { loadPyodide } from "pyodide";

const [folder, ddir] = process.argv.slice(2);
const pyodide = await loadPyodide();
pyodide.FS.mkdir("/src");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: folder }, "/src");
pyodide.globals.set("ddir", ddir);
const answer = pyodide.runPython(`
import compileall, py_compile, sys
ok = compileall.compile_dir(
    "/src", quiet=1, ddir=ddir, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
)
f"{sys.version_info.major}.{sys.version_info.minor} {ok}"
`);
console.log(answer);
