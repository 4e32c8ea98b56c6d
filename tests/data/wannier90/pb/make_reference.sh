#!/bin/bash
# Regenerate the Wannier90 reference outputs of this folder (see README.md) with Debian's wannier90
# 3.1.0 (apt-get install -y wannier90). Runs in a scratch folder; copies back only the outputs.
# Takes about 15 s. Usage: bash make_reference.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
examples=/usr/share/doc/wannier90/examples/example02
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cp "$examples"/lead.amn.gz "$examples"/lead.mmn.gz "$examples"/lead.eig.gz .
gunzip -f ./*.gz
cp "$here/lead.win" lead.win
chmod u+w lead.win

# 1. wannier90.x from scratch: must reproduce lead_hr.dat, lead_tb.dat, lead_wsvec.dat, lead_centres.xyz
sed -i 's/^boltzwann = true/boltzwann = false/' lead.win
wannier90.x lead
for f in lead_hr.dat lead_tb.dat lead_wsvec.dat; do
    diff <(tail -n +2 "$f") <(tail -n +2 "$here/$f") > /dev/null || { echo "$f differs from $here/$f"; exit 1; }
done
diff <(tail -n +3 lead_centres.xyz) <(tail -n +3 "$here/lead_centres.xyz") > /dev/null || { echo "centres differ"; exit 1; }

# 2. postw90.x geninterp (needs lead.chk and lead.eig) at the generic k-points of lead_geninterp.kpt
cp "$here/lead_geninterp.kpt" .
printf 'geninterp = true\ngeninterp_alsofirstder = true\n' >> lead.win
postw90.x lead
cp lead_geninterp.dat "$here/lead_geninterp.dat"

# 3. postw90.x BoltzWann: 30^3 Gamma-centred mesh, Gaussian TDF smearing 0.005 eV (Wannier90's width:
#    exp(-(x/w)^2), standard deviation w/sqrt(2)), T = 300 K, tau = 10 fs, mu = 4.2676..6.2676 eV
sed -i -e 's/^geninterp = true/geninterp = false/' -e 's/^boltzwann = false/boltzwann = true/' \
    -e 's/^boltz_kmesh = 60/boltz_kmesh = 30/' -e 's/^boltz_mu_step = 0.5/boltz_mu_step = 0.25/' \
    -e 's/^boltz_tdf_smr_fixed_en_width = 0.03/boltz_tdf_smr_fixed_en_width = 0.005/' lead.win
postw90.x lead
cp lead_elcond.dat "$here/lead_elcond.dat"
cp lead.win "$here/lead_boltzwann.win"
echo "reference outputs written to $here"
