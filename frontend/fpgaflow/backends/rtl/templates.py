"""Templates a hardware engineer can edit and keep: export, override folder, and the override checks.

The shipped RTL modules and the top template live inside the package (fpgaflow.package_data);
`fpgaflow templates export DIR` copies them into DIR with the same layout (DIR/rtl/,
DIR/hls_templates/), and `fpgaflow build --templates DIR` takes a file from DIR wherever DIR
has one, the shipped one otherwise. An overriding module is checked before use: it must
define the module of the same name with the shipped module's parameters and ports, read
with Verilator's own parser (`--json-only`), and the whole generated top must lint clean.
The cycle and resource models describe the shipped modules; an override keeps them only
when its text carries CONTRACT_MARK, otherwise the report marks the layers using it as
measured only.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from fpgaflow.errors import UserError
from fpgaflow.hw.module_interface import ParseError, module_interface
from fpgaflow.hw.toolchain import run_verilator_lint
from fpgaflow.package_data import share_dir
from fpgaflow.backends.rtl.library import library_modules

CONTRACT_MARK = "fpgaflow: keeps-contract"
"""A line comment with this text in an overriding module says it keeps the shipped module's
ports, stream conventions, latency and cost, so the cycle and resource models still apply."""
EXPORTED_FOLDERS = ("rtl", "hls_templates")
README = "README.md"


@dataclass(frozen=True)
class Override:
    """One file of the override folder that the build used instead of the shipped one."""

    relpath: str
    """Path inside the folder, e.g. rtl/requantize.sv."""
    sha256: str
    keeps_contract: bool

    def to_dict(self) -> dict[str, object]:
        return {"file": self.relpath, "sha256": self.sha256, "keeps_contract": self.keeps_contract}


@dataclass(frozen=True)
class Templates:
    """Where the build looks for a template: the override folder first (if any), then the shipped one."""

    folder: Path | None = None

    def rtl_dirs(self) -> list[Path]:
        """The RTL search path, override first."""
        shipped = share_dir("rtl")
        return [self.folder / "rtl", shipped] if self.folder is not None else [shipped]

    def override_of(self, relpath: str) -> Override | None:
        """The override of a shipped file (relpath like rtl/x.sv), or None when the folder has none."""
        if self.folder is None:
            return None
        path = self.folder / relpath
        if not path.is_file():
            return None
        data = path.read_bytes()
        return Override(relpath, hashlib.sha256(data).hexdigest(), CONTRACT_MARK in data.decode(errors="replace"))


def check_templates_folder(folder: Path, what: str) -> Templates:
    """A Templates for a user's folder; UserError when it is not a folder with an rtl/ or hls_templates/ inside."""
    if not folder.is_dir():
        raise UserError(f"{what} {folder} is not a folder; create one with `fpgaflow templates export {folder}`")
    if not any((folder / sub).is_dir() for sub in EXPORTED_FOLDERS):
        raise UserError(
            f"{what} {folder} has no rtl/ or hls_templates/ folder; create one with `fpgaflow templates export DIR`"
        )
    return Templates(folder)


def templates_in_config(path: Path) -> Path | None:
    """The `templates:` folder of a --config YAML file (relative to the file's folder), or None.

    Call after fpgaflow.flow.parallelism.read_parallelism_config has checked the file is YAML.
    """
    data = yaml.safe_load(path.read_text()) or {}
    value = data.get("templates") if isinstance(data, dict) else None
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise UserError(f"config file {path}: templates must be a folder name, got {value!r}")
    return path.parent / value


def check_module_override(shown: str, module: str, sources: list[Path], shipped: list[Path], staged: Path) -> None:
    """UserError (one line) when an overriding file does not keep the shipped module's interface.

    `sources` are the build's resolved files in `staged` (the override's copy among them),
    `shipped` the package's files; both elaborate `module` with its default parameters.
    """
    expected = module_interface(shipped, module)
    try:
        found = module_interface(sources, module)
    except ParseError as error:
        if "top-module" in str(error) or "not found" in str(error):
            raise UserError(f"{shown}: defines no module {module}; an override keeps the shipped module's name") from None
        where = str(error).replace(f"{staged}/", "OUT/rtl/")
        raise UserError(f"{shown}: Verilator cannot read the build's RTL with it: {where}") from None
    for name, direction in expected.ports.items():
        if name not in found.ports:
            extra = sorted(set(found.ports) - set(expected.ports))
            instead = f"; it has {', '.join(extra)} instead" if extra else ""
            raise UserError(f"{shown}: module {module} has no {direction} port {name} (the generator connects it){instead}")
        if found.ports[name] != direction:
            raise UserError(f"{shown}: port {name} of module {module} is an {found.ports[name]}, expected {direction}")
    extra_ports = sorted(set(found.ports) - set(expected.ports))
    if extra_ports:
        raise UserError(
            f"{shown}: module {module} has port {extra_ports[0]}, which the generator does not connect; "
            f"expected ports {', '.join(expected.ports)}"
        )
    missing = [name for name in expected.parameters if name not in found.parameters]
    if missing:
        raise UserError(f"{shown}: module {module} has no parameter {missing[0]} (the generator sets it)")


def check_overrides(templates: Templates, overrides: list[Override], rtl_dir: Path, sources: list[Path], top: str) -> None:
    """Check every overriding module against the shipped one, then lint the whole generated top (UserError, one line).

    rtl_dir is the folder the build wrote its rtl/ files into; `sources` are those files
    in compile order, the generated top last.
    """
    if not overrides or templates.folder is None:
        return
    shipped_files = sorted(share_dir("rtl").glob("*.sv"))
    shipped_modules = library_modules()
    library = [path for path in sources if path.stem != top]
    for override in overrides:
        file_name = Path(override.relpath).name
        for module in sorted(name for name, path in shipped_modules.items() if path.name == file_name):
            check_module_override(str(templates.folder / override.relpath), module, library, shipped_files, rtl_dir)
    lint = run_verilator_lint(sources, top)
    if lint.returncode != 0:
        lines = [line for line in lint.stderr.splitlines() if line.startswith(("%Warning", "%Error"))]
        first = (lines[0] if lines else lint.stderr.strip()[:300]).replace(f"{rtl_dir}/", "OUT/rtl/")
        raise UserError(f"the top built with templates from {templates.folder} is not lint-clean (verilator -Wall): {first}")


def export_templates(dest: Path) -> list[str]:
    """Copy the shipped templates into dest (new or empty) with a README; returns the files written."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UserError(f"{dest} exists and is not an empty folder; pick a new folder to export the templates into")
    written: list[str] = []
    for folder in EXPORTED_FOLDERS:
        for path in sorted(share_dir(folder).iterdir()):
            if path.is_file() and path.suffix in (".sv", ".j2", ".h", ".hpp", ".cpp"):
                target = dest / folder / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                written.append(f"{folder}/{path.name}")
    (dest / README).write_text(render_readme(written))
    return [*written, README]


def _header_summary(path: Path) -> str:
    """The first line of a module's header comment: what it is (the full contract is the header itself)."""
    text = path.read_text()
    first = text.splitlines()[0] if text else ""
    return first.removeprefix("//").removeprefix("{#-").strip()


def render_readme(files: list[str]) -> str:
    """The export's README: the rules of an override, then each file with its parameters and ports."""
    shipped_rtl = sorted(share_dir("rtl").glob("*.sv"))
    lines = [
        "# fpgaflow templates",
        "",
        "Edit any file here and build with `fpgaflow build MODEL --board B --templates THIS_FOLDER`",
        "(or `templates: THIS_FOLDER` in the `--config` YAML, relative to that file). A file here",
        "replaces the shipped file of the same name; delete the ones you do not change. Add",
        "`--verify N` to prove the edited hardware bit-exact against the reference.",
        "",
        "## The contract of an overriding module",
        "",
        "- the same module name, every parameter of the shipped module (the generator sets them),",
        "  exactly the shipped ports with the same directions; checked with Verilator's parser;",
        "  the generated top must then lint clean under `verilator -Wall`;",
        "- streams are AXI4-Stream valid/ready on prefixed ports (`s_axis_*` in, `m_axis_*` out:",
        "  `tdata`, `tvalid`, `tready`, `tlast`); a beat moves when valid and ready are both high;",
        "  TLAST ends a frame; a pixel is one beat, channel 0 in the low bits;",
        "- `clk`, active-low synchronous `rst_n`; numbers follow docs/fixed-point.md bit for bit;",
        "- the cycle model (fpgaflow.flow.cycles) assumes each module's rate and latency as its",
        "  header describes them; the resource model (fpgaflow.backends.rtl.resource_model) counts its cells.",
        f"  A module that keeps both says so with a line comment `// {CONTRACT_MARK}`; without it",
        "  the report marks the layers that use it \"measured only\" (cycles from `--verify`,",
        "  resources from `--synth`).",
        "",
        "`rtl/network_top.sv.j2` is the jinja2 template of every generated top; its header lists",
        "the context it is rendered with. Each module's full contract is its header comment.",
        "",
        "## Files",
        "",
        "| file | what | parameters | ports |",
        "|---|---|---|---|",
    ]
    for relpath in files:
        path = share_dir(relpath.split("/")[0]) / relpath.split("/", 1)[1]
        if path.suffix != ".sv":
            lines.append(f"| `{relpath}` | {_header_summary(path) or 'template'} | | |")
            continue
        module = path.stem
        iface = module_interface(shipped_rtl, module)
        ports = ", ".join(f"{direction} {name}" for name, direction in iface.ports.items())
        lines.append(f"| `{relpath}` | {_header_summary(path)} | {', '.join(iface.parameters)} | {ports} |")
    return "\n".join(lines) + "\n"
