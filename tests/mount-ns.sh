# SPDX-License-Identifier: ISC
# tests/mount-ns.sh: sourced first by a test that mounts filesystems. As root, it runs the
# test again in a mount namespace of its own (when unshare can make one), so that its
# mounts go away with it.

if [ "$(id -u)" -eq 0 ] && [ -z "${IDWISE_TEST_MOUNT_NS:-}" ] &&
    unshare --mount --propagation private true 2>/dev/null; then
	IDWISE_TEST_MOUNT_NS=1 exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi
