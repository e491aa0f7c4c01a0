#!/bin/sh
# Leaves a descendant behind that started its own session (setsid): a
# process-group kill would miss it.
setsid sleep 3600 &
echo started
exit 3
