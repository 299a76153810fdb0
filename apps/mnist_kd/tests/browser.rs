//! The page of `mnist_kd serve` in a real browser: headless Chromium, driven through ChromeDriver
//! (the W3C WebDriver protocol, plain JSON over HTTP). The test draws strokes that replay a real
//! test digit on the pad, checks the preprocessing and the predicted class, moves the temperature
//! slider and checks that every bar re-softens, opens the disagreement view, and saves
//! screenshots under target/browser/.
//!
//! It needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them when missing); it
//! fails, saying so, where they are not installed.
//!
//! `DISTILLERY_BROWSER_RUN=runs/default` runs it on that run and on data/mnist's test images
//! instead of a quick run on the fixture: how the README's screenshot was made.

mod support;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{fixture, predict_body, request, test_images, trained_run, Server};

/// The key WebDriver names an element by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// The pad's size in pixels; a 28 × 28 digit is replayed at 10 pad pixels per image pixel.
const PAD: i64 = 280;

/// A Chromium session through ChromeDriver; both stop when it is dropped.
struct Browser {
    driver: Child,
    address: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

impl Browser {
    fn start() -> Browser {
        let missing = "the browser test needs Chromium and ChromeDriver: `apt-get install \
                       chromium chromium-driver` (Debian's packages; .ci/run installs them)";
        let driver_path = which("chromedriver").unwrap_or_else(|| panic!("{missing}"));
        let chromium = which("chromium")
            .or_else(|| which("chromium-browser"))
            .unwrap_or_else(|| panic!("{missing}"));
        // A free port: bound, read, released, then given to ChromeDriver.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        wait_for(Duration::from_secs(30), "ChromeDriver to listen", || {
            std::net::TcpStream::connect(address).is_ok()
        });
        let profile = tempfile::tempdir().expect("a profile folder");
        // The flags that keep Chromium off the network (this machine has none) and headless.
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--window-size=1280,1000".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        }}});
        let reply = request(
            address,
            "POST",
            "/session",
            capabilities.to_string().as_bytes(),
        );
        assert_eq!(reply.status, 200, "no session: {}", reply.body);
        let session = reply.json()["value"]["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        Browser {
            driver,
            address,
            session,
            _profile: profile,
        }
    }

    /// A WebDriver command: `POST`/`GET` `/session/{id}{path}`; the reply's "value".
    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let path = format!("/session/{}{path}", self.session);
        let body = if method == "GET" {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let reply = request(self.address, method, &path, &body);
        assert_eq!(reply.status, 200, "{method} {path}: {}", reply.body);
        reply.json()["value"].clone()
    }

    fn go(&self, url: &str) {
        self.command("POST", "/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body) in the page and returns what it returns.
    fn eval(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": [] }),
        )
    }

    fn element(&self, css: &str) -> Value {
        let found = self.command(
            "POST",
            "/element",
            json!({ "using": "css selector", "value": css }),
        );
        json!({ ELEMENT: found[ELEMENT] })
    }

    fn click(&self, css: &str) {
        let id = self.element(css)[ELEMENT].as_str().unwrap().to_string();
        self.command("POST", &format!("/element/{id}/click"), json!({}));
    }

    /// Pointer actions of one mouse.
    fn pointer(&self, actions: Vec<Value>) {
        self.command(
            "POST",
            "/actions",
            json!({ "actions": [{
                "type": "pointer", "id": "mouse",
                "parameters": { "pointerType": "mouse" },
                "actions": actions,
            }]}),
        );
    }

    fn keys(&self, keys: &[&str]) {
        let actions: Vec<Value> = keys
            .iter()
            .flat_map(|k| {
                [
                    json!({ "type": "keyDown", "value": k }),
                    json!({ "type": "keyUp", "value": k }),
                ]
            })
            .collect();
        self.command(
            "POST",
            "/actions",
            json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] }),
        );
    }

    fn screenshot(&self, path: &Path) {
        use base64::Engine as _;
        let png = self.command("GET", "/screenshot", Value::Null);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64 text"))
            .expect("valid base64");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).expect("the screenshot is written");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let _ = request(self.address, "DELETE", &path, b"");
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Strokes that replay a 28 × 28 image on the pad: for each row, one stroke along each run of
/// inked pixels (≥ 0.5), through the centres of its pixels, 10 pad pixels per image pixel.
/// WebDriver places the pointer relative to the centre of the element.
fn strokes(image: &[f32], pad: &Value) -> Vec<Value> {
    let centre = |i: usize| 10 * i as i64 + 5 - PAD / 2;
    let mut actions = Vec::new();
    for y in 0..28 {
        let mut x = 0;
        while x < 28 {
            if image[y * 28 + x] < 0.5 {
                x += 1;
                continue;
            }
            let start = x;
            while x < 28 && image[y * 28 + x] >= 0.5 {
                x += 1;
            }
            let mv = |px: usize| {
                json!({ "type": "pointerMove", "origin": pad, "x": centre(px), "y": centre(y),
                        "duration": 0 })
            };
            actions.push(mv(start));
            actions.push(json!({ "type": "pointerDown", "button": 0 }));
            actions.push(mv(x - 1));
            actions.push(json!({ "type": "pointerUp", "button": 0 }));
        }
    }
    actions
}

/// The centre of mass of a 28 × 28 image, in pixel indices (column, row).
fn centre_of_mass(image: &[f64]) -> (f64, f64) {
    let mass: f64 = image.iter().sum();
    let x = (0..784).map(|i| image[i] * (i % 28) as f64).sum::<f64>() / mass;
    let y = (0..784).map(|i| image[i] * (i / 28) as f64).sum::<f64>() / mass;
    (x, y)
}

/// Where the fixture's test digits have their centres of mass, both axes: MNIST centred each
/// digit on a whole pixel, so this is a window one pixel wide. It is checked to be one, around
/// pixel 14, so that the page is held to the data, not to a convention of the test's.
fn mnist_centre_window(images: &[Vec<f32>]) -> (f64, f64) {
    let (mut low, mut high) = (f64::MAX, f64::MIN);
    for image in images {
        let image: Vec<f64> = image.iter().map(|&v| v as f64).collect();
        let (x, y) = centre_of_mass(&image);
        low = low.min(x).min(y);
        high = high.max(x).max(y);
    }
    assert!(
        13.4 < low && high < 14.6,
        "MNIST's centres of mass lie in [{low}, {high}]"
    );
    (low, high)
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

/// The teacher card's bar heights (probabilities) and entropy as the page shows them.
fn teacher_bars(browser: &Browser, view: &str) -> (Vec<f64>, f64) {
    let bars = browser.eval(&format!(
        "return [...document.querySelectorAll('{view} .model[data-role=teacher] .bar')]\
         .map(b => Number(b.dataset.p));"
    ));
    let entropy = browser.eval(&format!(
        "return Number(document.querySelector('{view} .model[data-role=teacher] .summary')\
         .dataset.entropy);"
    ));
    (numbers(&bars), entropy.as_f64().unwrap())
}

#[test]
fn a_person_draws_a_test_digit_moves_the_temperature_and_browses_the_disagreements() {
    let (run, data_dir) = match std::env::var_os("DISTILLERY_BROWSER_RUN") {
        // Relative to the workspace's root, where the README's commands run (and the server).
        Some(run) => (PathBuf::from(run), PathBuf::from("data/mnist")),
        None => (trained_run().to_path_buf(), fixture()),
    };
    let server = Server::start_with(&run, &data_dir);
    let (images, labels) = test_images();
    // A test digit the teacher reads with confidence from the original pixels: the test is of the
    // page (drawing, preprocessing, bars), not of how well a quick teacher reads hard digits.
    let confident = (0..images.len())
        .find(|&i| {
            let reply = request(
                server.address,
                "POST",
                "/predict",
                &predict_body(&images[i]),
            );
            let teacher = numbers(&reply.json()["models"][0]["logits"]);
            let max = teacher.iter().cloned().fold(f64::MIN, f64::max);
            let sum: f64 = teacher.iter().map(|z| (z - max).exp()).sum();
            teacher[labels[i]] == max && 1.0 / sum > 0.99
        })
        .expect("a test digit the teacher is sure of");
    let (image, label) = (&images[confident], labels[confident]);

    let browser = Browser::start();
    browser.go(&server.url("/"));
    wait_for(Duration::from_secs(30), "the page to load the run", || {
        browser.eval("return window.distillery && window.distillery.ready;") == json!(true)
    });

    // Draw.
    let pad = browser.element("#pad");
    browser.pointer(strokes(image, &pad));
    wait_for(Duration::from_secs(30), "the drawing's prediction", || {
        browser.eval("return window.distillery.predictions > 0 && window.distillery.pending === 0;")
            == json!(true)
    });

    // What the models saw: MNIST's preprocessing — the ink's box scaled so that its longer side
    // is 20 pixels, the centre of mass where MNIST's own test digits have theirs.
    let seen = numbers(&browser.eval("return window.distillery.state.image;"));
    assert_eq!(seen.len(), 784);
    let inked: Vec<(usize, usize)> = (0..784)
        .filter(|&i| seen[i] > 0.0)
        .map(|i| (i % 28, i / 28))
        .collect();
    let extent = |axis: fn(&(usize, usize)) -> usize| {
        let values = inked.iter().map(axis);
        values.clone().max().unwrap() - values.min().unwrap() + 1
    };
    assert_eq!(extent(|p| p.0).max(extent(|p| p.1)), 20, "the longer side");
    let window = mnist_centre_window(&images);
    let (x, y) = centre_of_mass(&seen);
    assert!(
        window.0 <= x && x <= window.1 && window.0 <= y && y <= window.1,
        "centre of mass ({x}, {y}), MNIST's lie in {window:?}"
    );

    // The teacher reads the redrawn digit, and the page shows what the API answers for it.
    let top = browser.eval(
        "return document.querySelector('#draw-models .model[data-role=teacher]').dataset.top;",
    );
    assert_eq!(
        top,
        json!(label.to_string()),
        "the teacher's top class on the page"
    );
    let seen_f32: Vec<f32> = seen.iter().map(|&v| v as f32).collect();
    let api = request(server.address, "POST", "/predict", &predict_body(&seen_f32)).json();
    let shown = browser.eval("return window.distillery.state.drawLogits;");
    for model in api["models"].as_array().unwrap() {
        let id = model["id"].as_str().unwrap();
        assert_eq!(numbers(&shown[id]), numbers(&model["logits"]), "{id}");
    }
    let cards = browser.eval("return document.querySelectorAll('#draw-models .model').length;");
    assert_eq!(cards, json!(api["models"].as_array().unwrap().len()));

    // The slider: focus it, End takes it to T = 20; every bar re-softens.
    let (cold, cold_entropy) = teacher_bars(&browser, "#draw-models");
    browser.click("#temperature");
    browser.keys(&["\u{E010}"]);
    assert_eq!(
        browser.eval("return window.distillery.state.temperature;"),
        json!(20)
    );
    let (hot, hot_entropy) = teacher_bars(&browser, "#draw-models");
    assert!(
        hot[label] < cold[label],
        "the top class loses mass: {cold:?} → {hot:?}"
    );
    assert!(
        hot_entropy > cold_entropy,
        "entropy {cold_entropy} → {hot_entropy}"
    );
    let logits = numbers(&api["models"][0]["logits"]);
    let max = logits.iter().cloned().fold(f64::MIN, f64::max);
    let sum: f64 = logits.iter().map(|z| ((z - max) / 20.0).exp()).sum();
    for (c, p) in hot.iter().enumerate() {
        let expected = ((logits[c] - max) / 20.0).exp() / sum;
        assert!(
            (p - expected).abs() < 1e-6,
            "class {c}: {p} against {expected}"
        );
    }
    // Home, then six steps of 0.5: T = 4, where the wrong classes' ranking shows.
    browser.keys(&[
        "\u{E011}", "\u{E014}", "\u{E014}", "\u{E014}", "\u{E014}", "\u{E014}", "\u{E014}",
    ]);
    assert_eq!(
        browser.eval("return window.distillery.state.temperature;"),
        json!(4)
    );
    let shown_t = browser.eval("return document.getElementById('temperature-value').textContent;");
    assert_eq!(shown_t, json!("4"));
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp is in target/")
        .join("browser");
    browser.screenshot(&shots.join("serve-draw.png"));

    // The second view: the first disagreement, with the three distributions.
    browser.click("#tab-browse");
    wait_for(Duration::from_secs(30), "the disagreements", || {
        browser.eval("return document.querySelectorAll('#thumbs .thumb').length;") != json!(0)
    });
    let hidden = browser.eval("return document.getElementById('view-draw').offsetParent === null;");
    assert_eq!(
        hidden,
        json!(true),
        "the drawing view is hidden while browsing"
    );
    browser.click("#thumbs .thumb");
    let roles = browser.eval(
        "return [...document.querySelectorAll('#browse-detail .model')].map(m => m.dataset.role);",
    );
    assert_eq!(roles, json!(["teacher", "alone", "distilled"]));
    let tops = browser.eval(
        "return [...document.querySelectorAll('#browse-detail .model')].map(m => m.dataset.top);",
    );
    assert_ne!(
        tops[1], tops[2],
        "the two students disagree on the image shown"
    );
    browser.screenshot(&shots.join("serve-disagreements.png"));
}
