//! Property test of the fake's label model (DESIGN.md 8.1): after any
//! sequence of PutSecretValue / UpdateSecretVersionStage calls, each label is
//! on at most one version, AWSCURRENT always exists, and a failed call
//! changes nothing.

use keysweep_rotate::testing::{FakeSecretsManager, AWSCURRENT, AWSPENDING, AWSPREVIOUS};
use keysweep_rotate::RotationToken;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Put { token: u8, value: u8, stage: u8 },
    Move { stage: u8, to: u8, from: Option<u8> },
    Remove { stage: u8, from: u8 },
}

const STAGES: [&str; 3] = [AWSCURRENT, AWSPENDING, AWSPREVIOUS];

fn tok(n: u8) -> String {
    RotationToken::from_random_bytes([n % 6; 16]).to_string()
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..6, 0u8..3, 0u8..3).prop_map(|(token, value, stage)| Op::Put {
            token,
            value,
            stage
        }),
        (0u8..3, 0u8..6, proptest::option::of(0u8..6)).prop_map(|(stage, to, from)| Op::Move {
            stage,
            to,
            from
        }),
        (0u8..3, 0u8..6).prop_map(|(stage, from)| Op::Remove { stage, from }),
    ]
}

proptest! {
    #[test]
    fn each_label_on_at_most_one_version(ops in proptest::collection::vec(op(), 0..40)) {
        let sm = FakeSecretsManager::new(b"initial");
        for op in ops {
            let before = sm.version_ids_to_stages();
            let r = match op {
                Op::Put { token, value, stage } => sm
                    .put_secret_value(&tok(token), &[value], &[STAGES[stage as usize]])
                    .map(|_| ()),
                Op::Move { stage, to, from } => sm.update_secret_version_stage(
                    STAGES[stage as usize],
                    Some(&tok(to)),
                    from.map(tok).as_deref(),
                ),
                Op::Remove { stage, from } => {
                    sm.update_secret_version_stage(STAGES[stage as usize], None, Some(&tok(from)))
                }
            };
            if r.is_err() {
                prop_assert_eq!(&before, &sm.version_ids_to_stages());
            }
            let map = sm.version_ids_to_stages();
            for st in STAGES {
                let n = map.values().filter(|l| l.iter().any(|x| x == st)).count();
                prop_assert!(n <= 1, "{} on {} versions", st, n);
            }
            prop_assert!(sm.version_with(AWSCURRENT).is_some());
        }
    }
}
