"""OUT/vivado/ without Vivado: the tcl scripts run in a Tcl interpreter with every Vivado command they
use defined as a recorder, and the recorded calls are checked (part, board part, IP names, port
connections, clock, files added); the Verilog wrapper lints clean as plain Verilog-2001; every file
the scripts add exists in OUT; the output is deterministic."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from fpgaflow.boards import load_board
from fpgaflow.cli.main import main
from fpgaflow.deploy.driver import DMA_CELL, DRIVER_DIR, OVERLAY_NAME, PACKAGE
from fpgaflow.hw.toolchain import verilator_env, verilator_executable

MODEL = "examples/digits_cnn.onnx"
CALIB = "examples/digits_train.npz"

RECORDED = (
    "create_project set_property update_compile_order ipx::package_project ipx::create_xgui_files "
    "ipx::update_checksums ipx::check_integrity ipx::save_core close_project update_ip_catalog create_bd_design "
    "apply_bd_automation connect_bd_intf_net connect_bd_net assign_bd_address validate_bd_design save_bd_design "
    "generate_target launch_runs wait_on_run open_run report_timing_summary report_utilization"
)
RECORDER = f"""
namespace eval ipx {{}}
set ::calls {{}}
proc record {{call}} {{ lappend ::calls $call }}
foreach command {{{RECORDED}}} {{
    proc $command args "record \\[linsert \\$args 0 $command\\]; return {{}}"
}}
proc add_files args {{ record [concat add_files {{*}}$args]; return {{}} }}
proc last {{values}} {{ return [lindex $values end] }}
proc get_files args {{ record [linsert $args 0 get_files]; return [last $args] }}
proc get_board_parts args {{ return [last $args] }}
proc get_ipdefs args {{
    record [linsert $args 0 get_ipdefs]
    regexp {{NAME == (\\S+)}} [last $args] -> name
    return [list vendor.example:ip:$name:1.0 vendor.example:ip:$name:2.1]
}}
proc ipx::current_core args {{ return core }}
proc current_project args {{ return project }}
proc current_fileset args {{ return sources_1 }}
proc create_bd_cell args {{ record [linsert $args 0 create_bd_cell]; return [last $args] }}
proc get_bd_pins args {{ return [last $args] }}
proc get_bd_intf_pins args {{ return [last $args] }}
proc get_runs args {{ return [last $args] }}
proc make_wrapper args {{ return fpgaflow_wrapper.v }}
proc get_property {{name object}} {{
    if {{$name eq "PROGRESS"}} {{ return "100%" }}
    return /runs/$object
}}
rename file ::tcl_file
proc file args {{
    if {{[lindex $args 0] eq "copy"}} {{ record [linsert $args 0 file]; return }}
    return [uplevel 1 [linsert $args 0 ::tcl_file]]
}}
"""


def run_tcl(script: Path) -> list[list[str]]:
    """Source `script` with the recorders defined; the calls it made, each split into words by Tcl."""
    program = RECORDER + f"\nsource {{{script}}}\nset result {{}}\nforeach call $::calls {{ lappend result [join $call \\x1f] }}\njoin $result \\x1e\n"
    try:
        import tkinter

        text = tkinter.Tcl().eval(program)
    except (ImportError, RuntimeError):
        tclsh = shutil.which("tclsh")
        if tclsh is None:
            pytest.skip("no Tcl interpreter: Python's tkinter has no Tcl and tclsh is not installed")
        text = subprocess.run([tclsh], input=program.replace("\njoin $result", "\nputs -nonewline [join $result") + "]",
                              capture_output=True, text=True, check=True).stdout
    return [call.split("\x1f") for call in text.split("\x1e") if call]


@pytest.fixture(scope="module", params=["pynq", "kv260"])
def build(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"vivado_{request.param}")
    assert main(["build", MODEL, "--board", request.param, "--calib", CALIB, "--out", str(out)]) == 0
    return out, load_board(request.param)


def calls_named(calls: list[list[str]], name: str) -> list[list[str]]:
    return [call[1:] for call in calls if call[0] == name]


def test_create_ip_adds_every_source_and_memory_and_packages(build):
    out, board = build
    calls = run_tcl(out / "vivado" / "create_ip.tcl")
    design = json.loads((out / "design.json").read_text())
    (project,) = calls_named(calls, "create_project")
    assert project[project.index("-part") + 1] == board.part
    added = [Path(p) for call in calls_named(calls, "add_files") for p in call if not p.startswith("-") and p != "constrs_1"]
    assert all(path.is_file() and out.resolve() in path.resolve().parents for path in added)
    names = {str(path.relative_to(out.resolve())) for path in added}
    memories = {f"rtl/{p.name}" for p in (out / "rtl").glob("*.mem")}
    top = design["top"]
    assert names == set(design["sources"]) | memories | {f"vivado/{top}_wrapper.v", f"vivado/{top}_clock.xdc"}
    assert ["file_type", "Memory Initialization Files"] == calls_named(calls, "set_property")[0][:2]
    assert ["top", f"{top}_wrapper", "sources_1"] in calls_named(calls, "set_property")
    (package,) = calls_named(calls, "ipx::package_project")
    assert "-import_files" in package and calls_named(calls, "ipx::save_core")


def test_block_design_connects_ps_dma_and_accelerator(build):
    out, board = build
    calls = run_tcl(out / "vivado" / "create_bd.tcl")
    ports = board.vivado
    top = json.loads((out / "design.json").read_text())["top"]
    (project,) = calls_named(calls, "create_project")
    assert project[project.index("-part") + 1] == board.part
    assert ["board_part", board.board_part, "project"] in calls_named(calls, "set_property")
    wanted_ip = [call[-1].split("== ")[1] for call in calls_named(calls, "get_ipdefs")]
    assert set(wanted_ip) == {ports.ps_ip, "axi_dma", "smartconnect", "proc_sys_reset", top}
    cells = {call[-1]: call[call.index("-vlnv") + 1] for call in calls_named(calls, "create_bd_cell")}
    assert cells["ps"] == f"vendor.example:ip:{ports.ps_ip}:2.1", "the newest catalog version, not a pinned one"
    links = {tuple(call) for call in calls_named(calls, "connect_bd_intf_net")}
    assert {
        (f"ps/{ports.control_port}", "control_interconnect/S00_AXI"),
        ("control_interconnect/M00_AXI", f"{DMA_CELL}/S_AXI_LITE"),
        ("memory_interconnect/M00_AXI", f"ps/{ports.data_port}"),
        (f"{DMA_CELL}/M_AXI_MM2S", "memory_interconnect/S00_AXI"),
        (f"{DMA_CELL}/M_AXI_S2MM", "memory_interconnect/S01_AXI"),
        (f"{DMA_CELL}/M_AXIS_MM2S", "accel/s_axis"),
        ("accel/m_axis", f"{DMA_CELL}/S_AXIS_S2MM"),
    } == links
    nets = calls_named(calls, "connect_bd_net")
    clock = next(net for net in nets if net[0] == f"ps/{ports.clock_pin}")
    assert {"accel/aclk", f"{DMA_CELL}/m_axi_s2mm_aclk", *(f"ps/{p}" for p in ports.port_clock_pins)} <= set(clock)
    assert any(net[0] == "reset/peripheral_aresetn" and "accel/aresetn" in net for net in nets)
    settings = [call[1] for call in calls_named(calls, "set_property") if call[0] == "-dict"]
    ps_config, dma_config = (dict(zip(s.split()[::2], s.split()[1::2])) for s in settings[:2])
    assert ps_config[f"CONFIG.{ports.clock_property}"] == f"{board.clock_mhz:g}"
    assert ps_config[f"CONFIG.{ports.data_width_property}"] == str(board.dma_data_width)
    assert dma_config["CONFIG.c_include_sg"] == "0"
    assert dma_config["CONFIG.c_m_axis_mm2s_tdata_width"] == dma_config["CONFIG.c_s_axis_s2mm_tdata_width"] == str(board.dma_data_width)
    assert int(dma_config["CONFIG.c_sg_length_width"]) >= 14
    assert calls_named(calls, "report_timing_summary") and calls_named(calls, "report_utilization")
    copies = [call[-1] for call in calls_named(calls, "file")]
    driver = (out / DRIVER_DIR / PACKAGE).resolve()
    assert copies == [str(driver / f"{OVERLAY_NAME}.bit"), str(driver / f"{OVERLAY_NAME}.hwh")]


def test_wrapper_lints_clean_as_plain_verilog(build):
    out, _ = build
    design = json.loads((out / "design.json").read_text())
    wrapper = out / "vivado" / f"{design['top']}_wrapper.v"
    args = [str(verilator_executable()), "--lint-only", "-Wall", "+1364-2001ext+v", "--top-module", wrapper.stem,
            str(wrapper), *(str(out / s) for s in design["sources"])]
    lint = subprocess.run(args, env=verilator_env(), capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stderr


def test_build_bitstream_checks_the_vivado_version(build, tmp_path):
    out, _ = build
    assert (out / "vivado" / "build_bitstream.sh").stat().st_mode & 0o111
    shutil.copytree(out / "vivado", tmp_path / "vivado")  # the script writes its logs beside itself
    script = tmp_path / "vivado" / "build_bitstream.sh"
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "vivado").write_text("#!/bin/sh\necho 'Vivado v2019.2 (64-bit)'\n")
    (fake / "vivado").chmod(0o755)
    run = subprocess.run(["bash", str(script)], env={"PATH": f"{fake}:/usr/bin:/bin"}, capture_output=True, text=True)
    assert run.returncode == 2 and "2019.2" in run.stderr and "2022.1" in run.stderr
    (fake / "vivado").write_text("#!/bin/sh\ncase \"$*\" in -version) echo 'Vivado v2022.1 (64-bit)';; "
                                 "*) echo 'ERROR: [Common 17-69] Command failed: no license' > \"$6\"; exit 1;; esac\n")
    run = subprocess.run(["bash", str(script)], env={"PATH": f"{fake}:/usr/bin:/bin"}, capture_output=True, text=True)
    assert run.returncode == 1 and "create_ip.log" in run.stderr and "ERROR: [Common 17-69]" in run.stderr


def test_deployment_files_are_deterministic_and_sanitized(build, tmp_path):
    out, board = build
    again = tmp_path / "again"
    assert main(["build", MODEL, "--board", board.name, "--calib", CALIB, "--out", str(again)]) == 0
    for folder in ("vivado", DRIVER_DIR):
        first = sorted(p.relative_to(out) for p in (out / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        second = sorted(p.relative_to(again) for p in (again / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        assert first == second
        for relpath in first:
            text = (out / relpath).read_bytes()
            assert text == (again / relpath).read_bytes()
            assert str(out).encode() not in text and str(tmp_path).encode() not in text
