//! Progress bars for the training phases, drawn from the `Distiller`'s events (one bar per run).

use indicatif::{ProgressBar, ProgressStyle};
use kd::Event;

/// A bar over all the steps of one training run, with the latest loss and the last evaluation.
pub struct Bar {
    bar: ProgressBar,
    /// What the per-epoch evaluation is run on ("test", "validation").
    eval_name: &'static str,
}

impl Bar {
    pub fn new(label: &str, total_steps: usize) -> Bar {
        let bar = ProgressBar::new(total_steps as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>28} [{bar:30.cyan/blue}] {pos:>5}/{len:5} {elapsed:>4} ETA {eta:>4} {msg}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        Bar {
            bar,
            eval_name: "test",
        }
    }

    /// Names the set evaluated after each epoch (the test set unless told).
    pub fn evaluating(mut self, name: &'static str) -> Bar {
        self.eval_name = name;
        self
    }

    /// Follows one event.
    pub fn on_event(&self, event: &Event) {
        match event {
            Event::Step {
                total,
                batch,
                epoch,
                ..
            } => {
                self.bar.inc(1);
                if batch % 20 == 0 {
                    self.bar
                        .set_message(format!("epoch {} loss {total:.4}", epoch + 1));
                }
            }
            Event::EpochFinished(record) => {
                if let Some(eval) = record.eval {
                    self.bar.set_message(format!(
                        "epoch {} loss {:.4} {} acc {:.2} %",
                        record.epoch + 1,
                        record.train_loss.total,
                        self.eval_name,
                        100.0 * eval.accuracy
                    ));
                }
            }
            Event::EpochStarted { .. } => {}
        }
    }

    /// Leaves the bar on screen with a final line.
    pub fn finish(&self, summary: &str) {
        self.bar.finish_with_message(summary.to_string());
    }
}
