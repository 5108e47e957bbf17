# Sourced by the build scripts: compile through ccache when it is installed
# (scripts/setup.sh installs it). Paths relative to the checkout and no
# working directory in the hash, so another clone of the same sources (CI's)
# reuses what an earlier build compiled. Sets `ccache_launcher` to the CMake
# arguments to pass (empty without ccache).
ccache_launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
  export CCACHE_NOHASHDIR=true CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
  ccache_launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
