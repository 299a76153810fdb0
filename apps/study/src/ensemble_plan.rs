//! What a study's settings say of its teacher (`--teachers N`, `--ensemble`): how many models, how
//! their outputs combine, where each is saved and what identifies them. Member k is trained from
//! seed k; member 1 is the one teacher a study has without an ensemble, with the same file, so a
//! saved teacher becomes an ensemble's first member. Training, assembling and scoring the members
//! is `ensemble.rs`'s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kd::{Combine, ModelSpec};

/// How many teachers a study has and how they are combined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ensemble {
    pub members: usize,
    /// Ignored for one member (its output is its own).
    pub combine: Combine,
}

/// The names `--ensemble` takes, and what each means.
pub const COMBINE_NAMES: [(&str, Combine); 2] = [
    ("probabilities", Combine::Probabilities),
    ("logits", Combine::Logits),
];

/// `--ensemble`'s name of a combination.
pub fn combine_name(combine: Combine) -> &'static str {
    COMBINE_NAMES
        .iter()
        .find(|(_, c)| *c == combine)
        .map(|(name, _)| *name)
        .expect("every combination is named")
}

/// The combination `--ensemble` names (one of [`COMBINE_NAMES`], which clap checked).
pub fn combine_named(name: String) -> Combine {
    COMBINE_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
        .expect("clap accepts only the names of COMBINE_NAMES")
}

impl Ensemble {
    /// One teacher: every preset's.
    pub const SINGLE: Ensemble = Ensemble {
        members: 1,
        combine: Combine::Probabilities,
    };

    /// The members' seeds, member 1 first: member k is trained from seed k.
    pub fn seeds(&self) -> std::ops::RangeInclusive<u64> {
        1..=self.members as u64
    }

    /// Where the member trained from `seed` is saved in the output folder `out`.
    pub fn member_path(out: &Path, seed: u64) -> PathBuf {
        if seed == 1 {
            out.join("teacher.safetensors")
        } else {
            out.join(format!("teacher-{seed}.safetensors"))
        }
    }

    /// What identifies the teacher the students learn from, given its first member's identity: a
    /// tuning (`tuned.json`) holds only for that teacher. One member is its own identity, as it
    /// was before ensembles, so that earlier tunings still apply.
    pub fn identity(&self, first: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut m = first.clone();
        if self.members > 1 {
            m.insert("teachers".into(), self.members.to_string());
            m.insert("ensemble".into(), combine_name(self.combine).into());
        }
        m
    }

    /// The teacher in words: its description, or "an ensemble of 3 × … (probabilities
    /// averaged)".
    pub fn describe(&self, spec: &ModelSpec) -> String {
        if self.members == 1 {
            spec.to_string()
        } else {
            format!(
                "an ensemble of {} × {spec} ({} averaged)",
                self.members,
                combine_name(self.combine)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_one_is_the_single_teachers_file_and_the_others_are_numbered() {
        let out = Path::new("runs/x");
        assert_eq!(
            Ensemble::member_path(out, 1),
            out.join("teacher.safetensors")
        );
        assert_eq!(
            Ensemble::member_path(out, 3),
            out.join("teacher-3.safetensors")
        );
        let three = Ensemble {
            members: 3,
            combine: Combine::Logits,
        };
        assert_eq!(three.seeds().collect::<Vec<_>>(), vec![1, 2, 3]);
    }

    /// One teacher keeps the identity it had before ensembles (earlier tunings apply); an
    /// ensemble's names its size and combination, so a tuning for one teacher is not reused for
    /// an ensemble, nor one for averaged logits for averaged probabilities.
    #[test]
    fn an_ensembles_identity_names_its_size_and_combination() {
        let first = BTreeMap::from([("spec".to_string(), "mlp:10".to_string())]);
        assert_eq!(Ensemble::SINGLE.identity(&first), first);
        let by = |combine| Ensemble {
            members: 3,
            combine,
        };
        let probabilities = by(Combine::Probabilities).identity(&first);
        assert_eq!(probabilities["teachers"], "3");
        assert_eq!(probabilities["ensemble"], "probabilities");
        assert_ne!(probabilities, by(Combine::Logits).identity(&first));
    }

    #[test]
    fn every_combination_has_a_name_that_reads_back() {
        for (name, combine) in COMBINE_NAMES {
            assert_eq!(combine_name(combine), name);
            assert_eq!(combine_named(name.to_string()), combine);
        }
    }
}
