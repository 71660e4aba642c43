#!/bin/sh
# Runs a Lua script with N ranks under Open MPI's mpirun, as CI does on one machine:
# --oversubscribe (more ranks than cores is fine for tests), --allow-run-as-root when
# running as root (containers, CI), and the transports that work in a container: shared
# memory (vader) and self; set OMPI_MCA_btl yourself to override (e.g. self,tcp when
# shared memory fails). Extra arguments after the script go to the script.
# Usage: run_mpi.sh MPIEXEC NP ACTRUN SCRIPT [args...]
set -eu
mpiexec=$1
np=$2
actrun=$3
shift 3
flags="--oversubscribe"
[ "$(id -u)" -eq 0 ] && flags="$flags --allow-run-as-root"
# no ssh/rsh agent on one machine; keep the output of the ranks as they write it
export OMPI_MCA_btl="${OMPI_MCA_btl:-self,vader}"
export OMPI_MCA_plm_rsh_agent="${OMPI_MCA_plm_rsh_agent:-false}"
export OMPI_MCA_btl_vader_single_copy_mechanism="${OMPI_MCA_btl_vader_single_copy_mechanism:-none}"
export OMPI_MCA_rmaps_base_oversubscribe=1
# idle ranks yield the core (two ranks and ctest -j share two cores)
export OMPI_MCA_mpi_yield_when_idle=1
exec "$mpiexec" $flags -np "$np" "$actrun" "$@"
