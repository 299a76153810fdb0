//! Bad input is refused with an error naming what was expected and what was found.

use trees::{Features, Targets, TreeError};

#[test]
fn features_are_checked() {
    assert_eq!(
        Features::new(0, 2, vec![]),
        Err(TreeError::Empty {
            what: "feature rows"
        })
    );
    assert_eq!(
        Features::new(2, 0, vec![]),
        Err(TreeError::Empty {
            what: "feature columns"
        })
    );
    let err = Features::new(2, 2, vec![0.0; 3]).unwrap_err();
    assert_eq!(
        err,
        TreeError::LengthMismatch {
            what: "feature values (rows × cols)",
            expected: 4,
            found: 3
        }
    );
    assert!(
        err.to_string().contains("expected length 4, found 3"),
        "{err}"
    );
    let err = Features::new(1, 2, vec![0.0, f32::NAN]).unwrap_err();
    assert!(
        matches!(err, TreeError::NotFinite { index: 1, .. }),
        "{err}"
    );
    let features = Features::new(2, 2, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    assert_eq!(features.row(1), &[3.0, 4.0]);
    assert_eq!(features.get(0, 1), 2.0);
}

#[test]
fn targets_are_checked() {
    assert!(matches!(
        Targets::labels(&[], 2),
        Err(TreeError::Empty { .. })
    ));
    assert!(matches!(
        Targets::labels(&[0], 0),
        Err(TreeError::Empty { .. })
    ));
    assert_eq!(
        Targets::labels(&[0, 3], 3).unwrap_err(),
        TreeError::LabelOutOfRange {
            row: 1,
            label: 3,
            classes: 3
        }
    );
    assert!(matches!(
        Targets::vectors(&[0.0; 5], 2),
        Err(TreeError::LengthMismatch { found: 5, .. })
    ));
    assert!(matches!(
        Targets::vectors(&[0.0, f32::INFINITY], 1),
        Err(TreeError::NotFinite { index: 1, .. })
    ));
    assert!(matches!(
        Targets::vectors(&[0.0], 0),
        Err(TreeError::Empty { .. })
    ));
}
