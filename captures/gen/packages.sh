# Shared by the capture generators and the training lab: the Debian packages a scenario drives, installed
# only when missing, with Debian's maintainer scripts kept from starting the daemons (policy-rc.d exit
# 101): the servers run only inside the namespaces, with the configs the scripts write.
#   install_missing PKG...          every PKG not installed yet (sudo when not root)
#   install_scenarios SCENARIO...   the packages the caller's associative array PKGS names for each one

install_missing() {
    local need=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
    done
    [[ ${#need[@]} -eq 0 ]] && return 0
    local sudo=()
    [[ $(id -u) -ne 0 ]] && sudo=(sudo)
    local prc=/usr/sbin/policy-rc.d made="" rc=0
    if [[ ! -e $prc ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$prc" >/dev/null && "${sudo[@]}" chmod 755 "$prc" && made=1
    fi
    { "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
            --no-install-recommends "${need[@]}" >/dev/null; } || rc=$?
    if [[ -n $made ]]; then "${sudo[@]}" rm -f "$prc"; fi
    return $rc
}

install_scenarios() {
    local all=() s
    for s in "$@"; do
        # shellcheck disable=SC2206 # a scenario's packages are one space-separated string
        all+=(${PKGS[$s]})
    done
    install_missing "${all[@]}"
}
