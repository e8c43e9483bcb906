//! Development probe: the prequential code length of a file's bytes. Run it as
//! `cargo run --release -p fastentropy-core --example prequential_probe -- ARGS`, ARGS being
//! `FILE [bits|tokens] [BYTES]`, or `TOKENS.u16 [bits|tokens] BYTES VOCAB [ORDER]` (16-bit
//! ids), or `markov N` (an order-1 chain, V = 40, N tokens), or `hmm N [bits|tokens]` (the
//! 64-state hidden-Markov source of benches/rate_accuracy.py, V = 2000, stickiness 0.95, N
//! tokens of seed 100: the excess over the source's own `-ln P(x)/N` on the same sample).
//! Wall-clock MB/s on a shared machine. Bytes: `FE_MEM=BYTES` sets the memory limit,
//! `FE_TRIM=...` switches parts of the bit model off (see `trim`).
use fastentropy_core::control::Control;
use fastentropy_core::predict::{prequential, ModelKind, PredictOptions, Trim};

/// `FE_TRIM="orders=2,3,4,6 texts=2 nomix2 nosse"`: parts of the byte bit model off.
fn trim(spec: &str) -> Trim {
    let mut t = Trim::default();
    for w in spec.split_whitespace() {
        match w.split_once('=') {
            Some(("orders", "-")) => t.orders = Some(Vec::new()),
            Some(("orders", v)) => {
                t.orders = Some(v.split(',').map(|k| k.parse().expect("order")).collect());
            }
            Some(("texts", v)) => t.texts = Some(v.parse().expect("texts")),
            _ => match w {
                "nomix2" => t.no_mixer2 = true,
                "nosse" => t.no_sse = true,
                _ => panic!("FE_TRIM: {w}?"),
            },
        }
    }
    t
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args[1] == "markov" {
        let n: usize = args[2].parse().expect("n");
        let src = fastentropy_core::MarkovSource::new(40, 1, (0.8, 1.6), 7).expect("src");
        let tokens = src.sample(n, 8);
        let t = std::time::Instant::now();
        let cl = prequential(
            &tokens,
            &PredictOptions {
                trim: std::env::var("FE_TRIM").ok().map(|t| trim(&t)),
                ..Default::default()
            },
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
    if args[1] == "hmm" {
        let n: usize = args[2].parse().expect("n");
        let src =
            fastentropy_core::HiddenMarkovSource::new(64, 2000, 0.95, (1.2, 1.6), 1).expect("src");
        let ctl = Control::default();
        let tokens = src.sample(n, 100, &ctl).expect("sample");
        let truth = -src.log_likelihood(&tokens).expect("truth") / n as f64;
        let opts = PredictOptions {
            model: match args.get(3).map(String::as_str) {
                Some("tokens") => Some(ModelKind::Tokens),
                _ => Some(ModelKind::Bits),
            },
            vocab_size: Some(2000),
            ..Default::default()
        };
        let t = std::time::Instant::now();
        let cl = prequential(&tokens, &opts, None, &ctl).expect("run");
        let ours = cl.nats / n as f64;
        println!(
            "hmm n={n} {}: ours {ours:.5}, the source on the sample {truth:.5}, excess {:.5} ({:.1} s)",
            cl.settings.name,
            ours - truth,
            t.elapsed().as_secs_f64()
        );
        return;
    }
    let mut data = std::fs::read(&args[1]).expect("read");
    let model = match args.get(2).map(String::as_str) {
        Some("tokens") => Some(ModelKind::Tokens),
        Some("bits") => Some(ModelKind::Bits),
        _ => None,
    };
    let t = std::time::Instant::now();
    if args[1].ends_with(".u16") {
        // 16-bit token ids (a fastentropy token file's .bin): `-- FILE.u16 MODEL BYTES VOCAB`,
        // the separator is VOCAB (as fastentropy's token files declare it).
        let bytes: f64 = args[3].parse().expect("bytes of text");
        let vocab: u64 = args[4].parse().expect("vocab");
        let tokens: Vec<u16> = data
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let opts = PredictOptions {
            model,
            vocab_size: Some(vocab + 1),
            separator: Some(vocab),
            order: args.get(5).map(|o| o.parse().expect("order")),
            ..Default::default()
        };
        let cl = prequential(&tokens, &opts, None, &Control::default()).expect("run");
        let s = t.elapsed().as_secs_f64();
        println!(
            "{} tokens: {:.4} bits/byte, {:.4} nats/token, {:.2} MB/s, {} MiB, {:?} order {}",
            tokens.len(),
            cl.nats / bytes / std::f64::consts::LN_2,
            cl.nats / cl.n as f64,
            bytes / s / 1e6,
            cl.settings.memory >> 20,
            cl.settings.name,
            cl.settings.order
        );
        return;
    }
    if let Some(n) = args.get(3) {
        data.truncate(n.parse().expect("bytes"));
    }
    let opts = PredictOptions {
        model,
        vocab_size: Some(256),
        memory_limit: std::env::var("FE_MEM")
            .ok()
            .map(|m| m.parse().expect("FE_MEM bytes")),
        trim: std::env::var("FE_TRIM").ok().map(|t| trim(&t)),
        ..Default::default()
    };
    let cl = prequential(&data, &opts, None, &Control::default()).expect("run");
    let s = t.elapsed().as_secs_f64();
    println!(
        "{} bytes: {:.6} bits/byte, {:.2} MB/s, {} MiB, {:?}",
        data.len(),
        cl.nats / data.len() as f64 / std::f64::consts::LN_2,
        data.len() as f64 / s / 1e6,
        cl.settings.memory >> 20,
        cl.settings.name
    );
}
