# tractor's IPC shape: parent and child talk over loopback TCP, and each
# waits for a message from the other that never comes.
import os, socket
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)
port = listener.getsockname()[1]
pid = os.fork()
if pid == 0:
    listener.close()
    conn = socket.create_connection(("127.0.0.1", port))
    print("ready", flush=True)
    conn.recv(1)
    os._exit(0)
conn, _ = listener.accept()
conn.recv(1)
