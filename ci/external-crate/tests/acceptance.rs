use prefixrace::Check;

#[test]
fn direct_install_is_safe() {
    Check::scenario("scenarios/sage-32361.toml").strategy("direct-install").schedules(1000).run();
}

#[test]
fn staged_copy_races() {
    let failure = Check::scenario("scenarios/sage-32361.toml").strategy("staged-copy").find_race().expect("the 32361 race");
    assert!(failure.to_string().contains("File exists"));
}
