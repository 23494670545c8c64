//! Baseline files: any text parses or fails with an error naming the file; a
//! baseline that parses serialises back to text that parses to the same value.
#![no_main]

use keysweep_core::Baseline;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match Baseline::from_json("fuzz.json", text) {
        Ok(b) => {
            let json = b.to_json();
            let again = Baseline::from_json("again.json", &json).expect("round trip parses");
            assert_eq!(again, b);
            assert_eq!(again.to_json(), json);
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.json"), "{e}"),
    }
});
