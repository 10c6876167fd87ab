#!/usr/bin/env bash
# Undo every fault: resume and restart every node, reconnect it, drop our firewall rules.
source "$(dirname "$0")/lib.sh"
chaos heal
