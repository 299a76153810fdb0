//! `mnist_kd serve`: a local page on which a person draws a digit and watches the teacher, each
//! student trained alone and the same student distilled answer it, at any temperature; and a
//! second view that browses the test images on which the two students disagree.
//!
//! The server is tiny_http: a small synchronous server with no async runtime, which suits a
//! handful of threads that each own a copy of the models (a model is single-threaded, see
//! `models.rs`) and spend their time in the engine, not waiting on sockets.
//!
//! Reading order: `models.rs` (the run's checkpoints), `disagreements.rs` (the second view's
//! data), `api.rs` (every request and reply), then this file (sockets and threads), then
//! `page/app.js` (the drawing, MNIST's preprocessing, the temperature). docs/serve.md has the API.

mod api;
mod disagreements;
mod models;

use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use api::{Reply, Shared, BODY_LIMIT};
use disagreements::{Disagreements, TestImages};
use models::RunModels;

/// `mnist_kd serve [--run DIR] [--port N]`.
#[derive(Parser, Debug)]
#[command(
    name = "mnist_kd serve",
    bin_name = "mnist_kd serve",
    about = "A local page: draw a digit and see the teacher, each student alone and each \
             student distilled answer it, at a temperature of your choice; and browse the test \
             images on which a student alone and distilled disagree. The models are those a \
             run of mnist_kd saved."
)]
pub struct ServeArgs {
    /// The run folder whose checkpoints the page shows (what `mnist_kd --out` wrote).
    #[arg(long, default_value = "runs/default")]
    run: PathBuf,
    /// The port to listen on (0: any free port; the address is printed).
    #[arg(long, default_value_t = 7878)]
    port: u16,
    /// The address to listen on. The page is for this machine, so only 127.0.0.1 unless another
    /// address is given here (0.0.0.0 lets anyone on the network in).
    #[arg(long, default_value = "127.0.0.1")]
    address: IpAddr,
    /// The IDX set whose test images the second view browses.
    #[arg(long, default_value = "data/mnist")]
    data_dir: PathBuf,
    /// Threads answering requests, each with its own copy of the models.
    #[arg(long, default_value_t = 4)]
    workers: usize,
}

/// Runs `mnist_kd serve` with `args` (the program's arguments after `serve`'s position).
pub fn main(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let args = ServeArgs::parse_from(args);
    match serve(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: &ServeArgs) -> Result<(), String> {
    if args.workers == 0 {
        return Err("--workers: expected at least 1, found 0".into());
    }
    let run = RunModels::open(&args.run)?;
    // The second view is a bonus: without test images the drawing view still works, and the
    // page says why there is nothing to browse.
    let browser = TestImages::read(&args.data_dir, run.classes()).and_then(|test| {
        let mut loaded = run.load()?;
        Ok(Disagreements::find(&run, &mut loaded, test))
    });
    if let Err(e) = &browser {
        eprintln!("note: the page will have no test images to browse: {e}");
    }
    let shared = Shared { run, browser };

    let listen_error =
        |e: &dyn std::fmt::Display| format!("cannot listen on {}:{}: {e}", args.address, args.port);
    let listener = listener((args.address, args.port).into()).map_err(|e| listen_error(&e))?;
    let server = tiny_http::Server::from_listener(listener, None).map_err(|e| listen_error(&e))?;
    let address = server
        .server_addr()
        .to_ip()
        .expect("an HTTP server listens on an IP address");
    if !args.address.is_loopback() {
        eprintln!(
            "note: listening on {}, not only on this machine: anyone who can reach it can use \
             the page",
            args.address
        );
    }
    println!(
        "mnist_kd serve: {} models of {} at http://{address}/ (Ctrl-C stops)",
        shared.run.models.len(),
        shared.run.dir.display()
    );
    // The tests read the address from this line: make sure it is out before any request.
    std::io::stdout().flush().map_err(|e| e.to_string())?;

    std::thread::scope(|scope| {
        for _ in 0..args.workers {
            scope.spawn(|| answer_requests(&server, &shared));
        }
    });
    Ok(())
}

/// A listening socket whose accepted connections have Nagle's algorithm off (`TCP_NODELAY`,
/// which Linux passes from a listening socket to the sockets it accepts).
///
/// Why: tiny_http writes a reply's head and its body in two writes. With Nagle's algorithm the
/// body waits until the client acknowledges the head, and a client waiting for the rest of a reply
/// delays that acknowledgement (delayed ACK) by tens of milliseconds: every prediction would take
/// that long, whatever the models cost.
fn listener(address: std::net::SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_tcp_nodelay(true)?;
    socket.bind(&address.into())?;
    socket.listen(128)?;
    Ok(socket.into())
}

/// One worker: its own copy of the models, then requests until the server stops.
fn answer_requests(server: &tiny_http::Server, shared: &Shared) {
    let mut loaded = match shared.run.load() {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: a worker could not load the models: {e}");
            return;
        }
    };
    while let Ok(mut request) = server.recv() {
        let method = request.method().to_string();
        let url = request.url().to_string();
        // Read one byte past the limit: a longer body is refused without reading it all.
        let mut body = Vec::new();
        let read = request
            .as_reader()
            .take(BODY_LIMIT as u64 + 1)
            .read_to_end(&mut body);
        let reply = match read {
            Err(e) => Reply {
                status: 400,
                content_type: "application/json",
                body: serde_json::json!({ "error": format!("cannot read the body: {e}") })
                    .to_string()
                    .into_bytes(),
                allow: None,
            },
            Ok(_) if body.len() > BODY_LIMIT => Reply::too_large(),
            Ok(_) => api::respond(shared, &mut loaded, &method, &url, &body),
        };
        let mut response = tiny_http::Response::from_data(reply.body)
            .with_status_code(reply.status)
            .with_header(header("Content-Type", reply.content_type))
            .with_header(header("Cache-Control", "no-store"));
        if let Some(allow) = reply.allow {
            response = response.with_header(header("Allow", allow));
        }
        // A client that went away is no reason to stop serving the others.
        let _ = request.respond(response);
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name, value).expect("ASCII header names and values")
}
