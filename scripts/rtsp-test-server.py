#!/usr/bin/python3
"""Test RTSP server (GStreamer GstRtspServer) for Vigil's integration tests.

Serves a live test pattern or a video file looped forever on 127.0.0.1, on one
or more mount paths, optionally behind basic auth. Prints one line
`READY port=N mounts=/a,/b` on stdout once listening.

File mode: the clip is re-encoded once (cached in the temp dir) into MPEG-TS
with a keyframe every second of clip time (whatever its fps), one slice per
frame and no B-frames, so a player joining mid-stream gets a picture within a
second; the first frame is an IDR, so every loop starts on a keyframe. Then one
ffmpeg per mount publishes it with `-re -stream_loop -1` as MPEG-TS over
loopback UDP and the mount relays it (udpsrc ! tsdemux ignore-pcr=true !
h264parse ! rtph264pay), no live re-encode. An .mp4 looped directly stops after
the first loop with ffmpeg 5.1 (DESIGN.md section 8), hence the TS copy.

SPS/PPS are re-sent in-band by h264parse (once per IDR access unit), never by
rtph264pay: its config-interval=-1 inserts them before every IDR *slice* NAL,
so a multi-slice IDR (x264 -tune zerolatency with 2 threads makes 2 slices)
reached players as two access units with one timestamp; each half decoded with
the other half concealed, and the whole GOP after it smeared (measured: 16-22
dB PSNR against the source, every keyframe output twice).

Run it with /usr/bin/python3 (a pyenv python lacks `gi`).
"""
import argparse
import ctypes
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PR_SET_PDEATHSIG = 1


def die_with_parent():
    """preexec_fn: the publisher ffmpeg gets SIGKILL when this server dies."""
    try:
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def looped_ts_copy(path, ffmpeg):
    """Re-encodes the clip once into a cached MPEG-TS (1 s GOP, one slice a frame, no B-frames)."""
    # Keyed by content: tests serve clips they wrote to fresh temporary paths, and a key by path
    # and mtime cached the same clip again on every run.
    h = hashlib.sha1(b'v3|')
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    key = h.hexdigest()[:16]
    cache_dir = os.environ.get('RTSP_TEST_CACHE') or os.path.join(tempfile.gettempdir(), 'vigil-rtsp-test')
    os.makedirs(cache_dir, exist_ok=True)
    out = os.path.join(cache_dir, f'{key}.ts')
    if os.path.exists(out):
        return out
    tmp = f'{out}.{os.getpid()}.tmp'
    # GOP by time, not frames: `-g 30` is 3 s at 10 fps. sliced-threads=0: frame threads
    # keep one slice per frame (zerolatency's sliced threads split each frame in two).
    cmd = [ffmpeg, '-hide_banner', '-loglevel', 'error', '-y', '-i', path, '-an',
           '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-x264-params', 'sliced-threads=0',
           '-force_key_frames', 'expr:gte(t,n_forced*1)', '-g', '250', '-sc_threshold', '0',
           '-pix_fmt', 'yuv420p', '-threads', '2', '-f', 'mpegts', tmp]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.stderr.write(r.stderr.decode(errors='replace'))
        raise SystemExit(f'rtsp-test-server: cannot convert {path}')
    os.replace(tmp, out)  # atomic: parallel servers never read a half-written file
    return out


class Server:
    def __init__(self, args):
        self.args = args
        self.publishers = []
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address('127.0.0.1')
        self.server.set_service(str(args.port))
        # Without enough threads a TCP publisher plus a new player deadlock.
        self.server.get_thread_pool().set_max_threads(16)
        if args.user is not None:
            auth = GstRtspServer.RTSPAuth()
            token = GstRtspServer.RTSPToken()
            token.set_string('media.factory.role', 'viewer')
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password or ''), token)
            self.server.set_auth(auth)
        ts = looped_ts_copy(args.file, args.ffmpeg) if args.file else None
        mounts = self.server.get_mount_points()
        for mount in args.mount:
            factory = GstRtspServer.RTSPMediaFactory()
            factory.set_shared(True)
            if ts:
                port = free_udp_port()
                self.publish(ts, port)
                launch = (f'( udpsrc address=127.0.0.1 port={port} buffer-size=4194304 caps="video/mpegts,systemstream=true" '
                          '! tsdemux ignore-pcr=true ! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=0 )')
            else:
                launch = (f'( videotestsrc is-live=true pattern={args.pattern} '
                          f'! video/x-raw,width={args.width},height={args.height},framerate={args.fps}/1 '
                          '! videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast '
                          f'key-int-max={args.fps} bframes=0 threads=1 ! rtph264pay name=pay0 pt=96 config-interval=-1 )')
            factory.set_launch(launch)
            if args.user is not None:
                factory.add_role_from_structure(Gst.Structure.new_from_string(
                    'viewer, media.factory.access=(boolean)true, media.factory.construct=(boolean)true'))
            mounts.add_factory(mount, factory)

    def publish(self, ts, port):
        cmd = [self.args.ffmpeg, '-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1',
               '-i', ts, '-c', 'copy', '-f', 'mpegts', f'udp://127.0.0.1:{port}?pkt_size=1316']
        self.publishers.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                preexec_fn=die_with_parent))

    def stop_publishers(self):
        for p in self.publishers:
            if p.poll() is None:
                p.kill()
                p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group()
    src.add_argument('--file', help='video file served looped forever')
    src.add_argument('--pattern', default='ball', help='videotestsrc pattern (default ball)')
    ap.add_argument('--port', type=int, default=0, help='TCP port (0: any free port)')
    ap.add_argument('--mount', action='append', help='mount path, repeatable (default /stream)')
    ap.add_argument('--user')
    ap.add_argument('--password')
    ap.add_argument('--width', type=int, default=640)
    ap.add_argument('--height', type=int, default=360)
    ap.add_argument('--fps', type=int, default=30)
    ap.add_argument('--ffmpeg', default=shutil.which('ffmpeg') or 'ffmpeg')
    args = ap.parse_args()
    args.mount = [m if m.startswith('/') else '/' + m for m in (args.mount or ['/stream'])]
    if args.file:
        args.pattern = None

    Gst.init(None)
    srv = Server(args)
    loop = GLib.MainLoop()
    if srv.server.attach(None) == 0:
        srv.stop_publishers()
        sys.stderr.write(f'rtsp-test-server: cannot listen on 127.0.0.1:{args.port}\n')
        sys.exit(2)

    def quit_(*_):
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, quit_)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, quit_)
    print(f'READY port={srv.server.get_bound_port()} mounts={",".join(args.mount)}', flush=True)
    try:
        loop.run()
    finally:
        srv.stop_publishers()


if __name__ == '__main__':
    main()
