"""The CPU instruction level that AOTInductor kernels are generated for, pinned at export.

By default Inductor compiles its kernels for the exporting machine: the vector ISA it detects
(AVX-512 with VNNI and BF16 here, AMX where present) and `-march=native` for the whole shared
object, so a package made on a new CPU can die with SIGILL on an older one. We pin both the
vector ISA of the generated kernels and the `-march` baseline of everything else, record the
choice in the manifest, and the loader refuses a CPU that lacks the listed flags.
"""
import contextlib
import platform
from typing import Dict, Iterator, List


# name -> (-march baseline, CPU flags (as in /proc/cpuinfo) a machine needs to run the package)
ISAS: Dict[str, Dict[str, object]] = {
    "avx2": {"march": "x86-64-v3", "cpu_flags": ["avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "movbe"]},
    "avx512": {"march": "x86-64-v4", "cpu_flags": ["avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "movbe",
                                                   "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"]},
    "none": {"march": "x86-64", "cpu_flags": []},
    "native": {"march": None, "cpu_flags": None},
}
DEFAULT_ISA = "avx2"


def machine_flags() -> List[str]:
    """The exporting CPU's flags (Linux), for the native pin and for refusing an ISA it lacks."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return line.split(":", 1)[1].split()
    except OSError:
        pass
    return []


def _vec_isa(name: str):
    from torch._inductor import cpu_vec_isa as v
    if name == "none":
        return v.invalid_vec_isa
    if name == "avx2":
        return v.VecAVX2()

    class PinnedAVX512(v.VecAVX512):
        # Plain AVX-512 (F/DQ/VL/BW): without the VNNI / BF16 / AMX extras Inductor adds when the
        # exporting CPU has them.
        def build_arch_flags(self) -> str:
            return v.VecAVX512._arch_flags

        __hash__ = v.VecISA.__hash__

    return PinnedAVX512()


def check_isa(name: str, device: str) -> None:
    if name not in ISAS:
        raise ValueError("cpu ISA must be one of %s, got %r" % (", ".join(ISAS), name))
    if name in ("native", "none") or device != "cpu":
        return
    if platform.machine() not in ("x86_64", "AMD64"):
        raise ValueError("--cpu-isa %s is an x86-64 level; on %s use --cpu-isa native" % (name, platform.machine()))
    missing = [f for f in ISAS[name]["cpu_flags"] if f not in machine_flags()]
    if missing:
        raise ValueError("this CPU lacks %s needed to compile for --cpu-isa %s; choose a lower level (avx2 or none)"
                         % (", ".join(missing), name))


def describe(name: str) -> Dict[str, object]:
    """What the manifest records: the pinned level, its -march baseline and the flags it needs.
    For "native", cpu_isa lists Inductor's words for what it picked (e.g. "avx512 avx512_vnni
    avx512_bf16") and cpu_flags all of this CPU's flags (-march=native may use any of them)."""
    if name != "native":
        return {"cpu_isa": name, "march": ISAS[name]["march"], "cpu_flags": list(ISAS[name]["cpu_flags"])}
    from torch._inductor.cpu_vec_isa import pick_vec_isa
    isa = pick_vec_isa()
    words = str(isa).split() if isa else ["none"]
    if getattr(isa, "_is_avx512_bf16_supported", False):
        words.append("avx512_bf16")
    return {"cpu_isa": " ".join(words), "march": "native", "cpu_flags": machine_flags()}


@contextlib.contextmanager
def pinned(name: str) -> Iterator[None]:
    """Inductor compiles for the named level inside this block (no-op for "native")."""
    if name == "native":
        yield
        return
    from torch._inductor import config
    from torch._inductor import cpu_vec_isa as v
    isa = _vec_isa(name)
    saved = v.valid_vec_isa_list, config.cpp.march, config.cpp.simdlen
    # pick_vec_isa() takes the first of this list when simdlen and ATEN_CPU_CAPABILITY are unset.
    v.valid_vec_isa_list = lambda: [isa] if isa else []
    config.cpp.march = ISAS[name]["march"]
    config.cpp.simdlen = None
    try:
        yield
    finally:
        v.valid_vec_isa_list, config.cpp.march, config.cpp.simdlen = saved
