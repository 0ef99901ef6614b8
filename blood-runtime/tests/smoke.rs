use blood_runtime::*;

#[test]
fn smoke() {
    for workers in [1, 2] {
        let rt = Runtime::new(Config::default().with_workers(workers)).unwrap();
        let v = rt.block_on(|| {
            let hs: Vec<_> = (0..100u64).map(|i| spawn(move || i * 2)).collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
        });
        assert_eq!(v, Ok(9900));
        let (tx, rx) = bounded::<u64>(0);
        let r = rt.block_on(move || {
            let p = spawn(move || {
                for i in 0..1000 {
                    tx.send(i).unwrap();
                }
                tx.close();
            });
            let mut s = 0;
            while let Ok(v) = rx.recv() {
                s += v;
            }
            p.join().unwrap();
            s
        });
        assert_eq!(r, Ok(499500));
        rt.block_on(|| sleep(std::time::Duration::from_millis(5)).unwrap()).unwrap();
        println!("{:?}", rt.counters());
    }
}
