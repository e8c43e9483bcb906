//! Development probe: the prequential code length of a file's bytes.
//! `cargo run --release -p fastentropy-core --example prequential_probe -- FILE [bits|tokens] [BYTES]`
//! or `-- markov N` (an order-1 chain, V = 40, N tokens). Wall-clock MB/s on a shared machine.
use fastentropy_core::control::Control;
use fastentropy_core::predict::{prequential, ModelKind, PredictOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args[1] == "markov" {
        let n: usize = args[2].parse().expect("n");
        let src = fastentropy_core::MarkovSource::new(40, 1, (0.8, 1.6), 7).expect("src");
        let tokens = src.sample(n, 8);
        let t = std::time::Instant::now();
        let cl = prequential(
            &tokens,
            &PredictOptions::default(),
            None,
            &Control::default(),
        )
        .expect("run");
        let ours = cl.nats / n as f64;
        println!(
            "markov n={n} {}: ours {ours:.5}, rate {:.5}, excess {:.5} ({:.1} s)",
            cl.settings.name,
            src.entropy_rate(),
            ours - src.entropy_rate(),
            t.elapsed().as_secs_f64()
        );
        return;
    }
    let mut data = std::fs::read(&args[1]).expect("read");
    if let Some(n) = args.get(3) {
        data.truncate(n.parse().expect("bytes"));
    }
    let model = match args.get(2).map(String::as_str) {
        Some("tokens") => Some(ModelKind::Tokens),
        Some("bits") => Some(ModelKind::Bits),
        _ => None,
    };
    let opts = PredictOptions {
        model,
        vocab_size: Some(256),
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let cl = prequential(&data, &opts, None, &Control::default()).expect("run");
    let s = t.elapsed().as_secs_f64();
    println!(
        "{} bytes: {:.4} bits/byte, {:.2} MB/s, {} MiB, {:?}",
        data.len(),
        cl.nats / data.len() as f64 / std::f64::consts::LN_2,
        data.len() as f64 / s / 1e6,
        cl.settings.memory >> 20,
        cl.settings.name
    );
}
