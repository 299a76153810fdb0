//! What the tests of `mnist_kd serve` share: a run trained on the fixture, a server started on it
//! on a free port of 127.0.0.1, and a small HTTP/1.1 client (one request per connection), so
//! that the tests speak to the server over a real socket as a browser does.

#![allow(dead_code)] // each test file uses part of it

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The workspace's root, where the README's commands run.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture() -> PathBuf {
    workspace_root().join("tests/fixtures/mnist")
}

/// A quick run on the fixture (a teacher, a student alone and distilled), trained once per test
/// binary. The teacher trains 6 epochs in batches of 32: enough for it to read a redrawn digit.
pub fn trained_run() -> &'static Path {
    static RUN: OnceLock<tempfile::TempDir> = OnceLock::new();
    RUN.get_or_init(|| {
        let out = tempfile::tempdir().expect("a temporary folder");
        let o = Command::new(env!("CARGO_BIN_EXE_mnist_kd"))
            .args([
                "--preset",
                "quick",
                "--validation",
                "1000",
                "--batch-size",
                "32",
            ])
            .args(["--teacher-epochs", "6", "--seeds", "1"])
            .arg("--data-dir")
            .arg(fixture())
            .arg("--out")
            .arg(out.path())
            .output()
            .expect("mnist_kd runs");
        assert!(
            o.status.success(),
            "the quick run failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    })
    .path()
}

/// `mnist_kd serve` on `run`, stopped when dropped.
pub struct Server {
    child: Child,
    pub address: SocketAddr,
}

impl Server {
    /// Starts the server on `run` and the fixture's test images (see [`Server::start_with`]).
    pub fn start(run: &Path) -> Server {
        Server::start_with(run, &fixture())
    }

    /// Starts the server on a free port, the second view on the test images of `data_dir`, and
    /// waits for the line that gives its address. Relative paths are from the workspace's root.
    pub fn start_with(run: &Path, data_dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mnist_kd"))
            .current_dir(workspace_root())
            .args(["serve", "--port", "0", "--run"])
            .arg(run)
            .arg("--data-dir")
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("mnist_kd serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("the server prints its address");
        let address: SocketAddr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in the server's first line {line:?}"));
        // Without --address, the page is for this machine only.
        assert!(address.ip().is_loopback(), "listening on {address}");
        Server { child, address }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child
            .try_wait()
            .expect("the child can be polled")
            .is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A reply: status and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// One HTTP/1.1 request to `address` on a connection of its own (`Connection: close`).
pub fn request(address: SocketAddr, method: &str, path: &str, body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(address).expect("connects to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("a timeout");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("sends the head");
    // A server may answer before reading all of a body it refuses, and close: not an error here.
    let _ = stream.write_all(body);
    // The head, line by line; then as many bytes as Content-Length says (some servers keep the
    // connection open after the reply, whatever the request asked), else all until closed.
    let mut reader = BufReader::new(stream);
    let mut headers = String::new();
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line).expect("reads the reply's head");
        if read == 0 || line == "\r\n" {
            break;
        }
        headers.push_str(&line);
    }
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {headers:?}"));
    let length = headers.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    let mut body = Vec::new();
    match length {
        Some(n) => {
            body.resize(n, 0);
            reader.read_exact(&mut body).expect("reads the whole body");
        }
        None => {
            let _ = reader.read_to_end(&mut body);
        }
    }
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A JSON body for `POST /predict` with `pixels`.
pub fn predict_body(pixels: &[f32]) -> Vec<u8> {
    serde_json::json!({ "pixels": pixels })
        .to_string()
        .into_bytes()
}

/// The fixture's test images, in [0, 1], and their labels.
pub fn test_images() -> (Vec<Vec<f32>>, Vec<usize>) {
    let set = nn::data::load_idx_set(&fixture()).expect("the fixture reads");
    let images = (0..set.test.len())
        .map(|i| set.test.sample(i).to_vec())
        .collect();
    (images, set.test.labels)
}
