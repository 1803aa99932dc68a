#!/usr/bin/python3
"""Servers for the checker lab tests, one per process.

  servers.py http ADDRESS PORT NAME                 answers every GET with NAME
  servers.py https ADDRESS PORT NAME CERT KEY SNIFILE   the same over TLS; writes the SNI name it saw to SNIFILE
  servers.py httpfile ADDRESS PORT BODYFILE LOG      answers with BODYFILE's contents; appends each request's head to LOG
  servers.py httpsclient ADDRESS PORT NAME CERT KEY CA   TLS that needs a client certificate signed by CA
  servers.py udpecho ADDRESS PORT                   echoes datagrams, prefixed with b"OK"
  servers.py hostile ADDRESS PORT MODE              endless | longstatus | silent | reset | garbage
  servers.py get URL COUNT                          COUNT requests, one connection each; prints a JSON
                                                    object {body: count, "error": failures}
"""
import http.server
import json
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.request


def web(address, port, name, context=None, sni_file=None, body_file=None, request_log=None):
    body = name.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):
            nonlocal body
            if request_log:
                with open(request_log, "a") as f:
                    f.write(self.requestline + "\n" + str(self.headers) + "\n")
            if body_file:
                with open(body_file, "rb") as f:
                    body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        allow_reuse_address = True

    server = Server((address, port), Handler)
    if context is not None:
        def remember(sock, server_name, ctx):
            if sni_file and server_name:
                with open(sni_file, "w") as f:
                    f.write(server_name)
        context.sni_callback = remember
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    server.serve_forever()


def udpecho(address, port):
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))
    print("ready", flush=True)
    while True:
        data, peer = sock.recvfrom(2048)
        sock.sendto(b"OK" + data, peer)


def hostile(address, port, mode):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(64)
    held = []
    print("ready", flush=True)

    def serve(conn):
        try:
            conn.recv(4096)
            if mode == "endless":
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
                chunk = b"x" * 65536
                while True:
                    conn.sendall(chunk)
            elif mode == "longstatus":
                conn.sendall(b"HTTP/1.0 200 " + b"A" * 100_000 + b"\r\n\r\n")
                time.sleep(30)
            elif mode == "garbage":
                conn.sendall(b"\x00\xff garbage \x01\x02\r\n\r\n")
                time.sleep(30)
            elif mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()
                return
            elif mode == "silent":
                held.append(conn)
                return
        except OSError:
            pass
        finally:
            if mode != "silent":
                try:
                    conn.close()
                except OSError:
                    pass

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def get(url, count):
    counts = {}
    for _ in range(count):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                key = response.read().decode()
        except Exception:
            key = "error"
        counts[key] = counts.get(key, 0) + 1
    print(json.dumps(counts), flush=True)


def main():
    mode = sys.argv[1]
    if mode == "http":
        web(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif mode == "https":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[5], sys.argv[6])
        web(sys.argv[2], int(sys.argv[3]), sys.argv[4], context, sys.argv[7])
    elif mode == "httpfile":
        web(sys.argv[2], int(sys.argv[3]), "", body_file=sys.argv[4], request_log=sys.argv[5])
    elif mode == "httpsclient":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[5], sys.argv[6])
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(sys.argv[7])
        web(sys.argv[2], int(sys.argv[3]), sys.argv[4], context)
    elif mode == "udpecho":
        udpecho(sys.argv[2], int(sys.argv[3]))
    elif mode == "hostile":
        hostile(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif mode == "get":
        get(sys.argv[2], int(sys.argv[3]))


if __name__ == "__main__":
    main()
