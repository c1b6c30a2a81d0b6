//! The calibration set of support judging: replies an LLM could write to the bakery's and the
//! Larchwood shop's passages (the `quality` dev set's pages), right ones and ones with a claim
//! the passages do not hold. Prints, per least coverage, how many right replies are kept and
//! how many wrong ones slip through; asserts the chosen point.

use super::*;

const SHOP: [&str; 11] = [
    "Returns and refunds\nYou can return unworn items with their tags attached within 60 days of the date your order was delivered, for a refund or an exchange.",
    "Returns and refunds › How to return\nReturns from UK addresses are free. Returns from outside the UK are at your own cost; we recommend a tracked service, because we cannot refund parcels that never arrive.",
    "Returns and refunds › Refunds\nWe refund to the original payment method within 5 working days of your return reaching our warehouse. Your bank may take another 3–5 days to show it. If you choose store credit instead of a refund, we add an extra 5% to the credit.",
    "Returns and refunds › Exceptions\nSale items can be returned within 14 days of delivery, for an exchange or store credit only (no refunds to your card). For hygiene reasons, underwear, socks and swimwear cannot be returned unless they are faulty.",
    "Delivery information\nOrders placed before 2 pm (UK time) Monday to Friday leave the warehouse the same day; orders placed later, or at the weekend, are dispatched on the next working day.",
    "Delivery information › Delivery zones and prices\nZone: UK mainland — Countries: England, Wales and mainland Scotland — Standard delivery: £3.95 — Standard delivery time: 3–5 working days — Express delivery: £7.50, next working day — Free standard delivery from: £60",
    "Delivery information › Delivery zones and prices\nZone: Europe zone 1 — Countries: Ireland, France, Germany, the Netherlands, Belgium, Luxembourg, Spain, Portugal, Italy, Austria, Denmark — Standard delivery: £9.95 — Standard delivery time: 5–8 working days — Express delivery: £19.50, 2–3 working days — Free standard delivery from: £150",
    "Larchwood Kendal\n14 Stricklandgate, Kendal, Cumbria LA9 4ND. Phone: 01539 720418. Opening hours: Monday to Friday 9:00 – 17:30; Saturday 9:00 – 17:30; Sunday 10:00 – 16:00. Closed on Christmas Day, Boxing Day and New Year's Day.",
    "Larchwood Kendal › In store\nFree boot fitting with a trained fitter is available every Saturday by appointment; book it by phone. Store manager: Priya Natarajan.",
    "Larchwood Keswick › In store\nDogs are welcome in the Keswick store. We rent winter kit from this store only: crampons and an ice axe cost £12 per day or £30 for a weekend, with a £50 deposit. Bring photo ID to rent.",
    "Trailblazer Club\nOur free loyalty programme. Join online or in store and collect points on every purchase; 100 points are worth a £5 voucher. Points expire if your account has no purchases for 18 months. Points are not earned on gift card purchases.",
];

/// Replies that say only what the passages say (paraphrased, no markers).
const RIGHT_SHOP: [&str; 23] = [
    "You have 60 days from delivery to return unworn items with the tags still attached.",
    "Returns are free from UK addresses.",
    "If you return from outside the UK, you pay the return postage yourself.",
    "Refunds go back to your original payment method within 5 working days after the return reaches our warehouse.",
    "If you choose store credit, we add an extra 5%.",
    "Sale items can be returned within 14 days, for an exchange or store credit only.",
    "Socks and underwear can't be returned unless they are faulty.",
    "Orders placed before 2 pm on a weekday leave the warehouse the same day.",
    "Standard UK delivery costs £3.95 and takes 3–5 working days.",
    "Express delivery on the UK mainland is £7.50 and arrives the next working day.",
    "Delivery to France costs £9.95 and takes 5-8 working days.",
    "Standard delivery to Germany is free from £150.",
    "The Kendal store is open from 10:00 to 16:00 on Sundays.",
    "You can find our Kendal store at 14 Stricklandgate.",
    "Boot fitting is free on Saturdays; book it by phone.",
    "Crampons and an ice axe cost £12 per day to rent from the Keswick store.",
    "Yes, dogs are welcome in our Keswick store.",
    "100 points are worth a £5 voucher.",
    "Your points expire after 18 months without a purchase.",
    "You don't earn points on gift card purchases.",
    "Sure! You can call the Kendal store on 01539 720418.",
    "The Kendal store is closed on Christmas Day and Boxing Day.",
    "Our Kendal store manager is Priya Natarajan.",
];

const RIGHT_BAKERY: [&str; 7] = [
    "A loaf of sourdough bread costs $6.50.",
    "Our baguettes are $3.20.",
    "We're open from 7am to 3pm, Tuesday to Sunday.",
    "We are closed on Mondays.",
    "You'll find us at 14 Mill Lane in Riverton, next to the old post office.",
    "Birthday cakes need to be ordered 48 hours ahead.",
    "We bake with organic flour from Hartley Farm.",
];

/// Replies holding a claim the passages do not make.
const WRONG_SHOP: [&str; 20] = [
    "You have 30 days from delivery to return unworn items.",
    "Returns are free worldwide.",
    "Refunds take 10 working days.",
    "We add an extra 10% when you choose store credit.",
    "Sale items can be refunded to your card within 14 days.",
    "Swimwear can be returned within 60 days.",
    "Orders placed before 5 pm are dispatched the same day.",
    "Standard delivery to the US costs £9.95.",
    "We deliver to Japan in 10 working days.",
    "Express delivery to France costs £7.50.",
    "The Kendal store manager is Callum Reid.",
    "Boot fitting costs £15.",
    "Crampons cost £20 per day.",
    "Points never expire.",
    "Gift card purchases earn double points.",
    "Members get free delivery on every order.",
    "You can return items to our Manchester store.",
    "We offer a 20% student discount.",
    "The Kendal store is open until 20:00 on Saturdays.",
    "We refund in cash at the store.",
];

const WRONG_BAKERY: [&str; 10] = [
    "A loaf of sourdough bread costs $5.50.",
    "We open at 8am.",
    "We are open on Mondays.",
    "We deliver birthday cakes to your home for free.",
    "Our flour comes from Greenfield Mills.",
    "Birthday cakes can be ordered the same day.",
    "We also sell gluten-free bread.",
    "The bakery is at 41 Mill Lane.",
    "You can pay with Bitcoin at the bakery.",
    "Croissants cost $2.",
];

/// (right replies kept, wrong replies kept), each judged against its own business.
fn rates(min: f32) -> (usize, usize) {
    let shop = Evidence::new(&SHOP, &["Larchwood assistant"]).with_min_coverage(min);
    let bakery = Evidence::new(&BAKERY, &["Riverside Bakery assistant"]).with_min_coverage(min);
    let kept = |e: &Evidence, replies: &[&str]| {
        replies
            .iter()
            .filter(|r| e.judge_reply(r).is_some())
            .count()
    };
    (
        kept(&shop, &RIGHT_SHOP) + kept(&bakery, &RIGHT_BAKERY),
        kept(&shop, &WRONG_SHOP) + kept(&bakery, &WRONG_BAKERY),
    )
}

#[test]
fn calibration() {
    println!("min coverage | right replies kept | wrong replies kept");
    for min in [0.5, 0.6, 0.67, 0.7, 0.75, 0.8, 0.9] {
        let (kept, slipped) = rates(min);
        println!(
            "{min:>12} | {kept:>2}/{} | {slipped:>2}/{}",
            (RIGHT_SHOP.len() + RIGHT_BAKERY.len()),
            (WRONG_SHOP.len() + WRONG_BAKERY.len())
        );
    }
    let shop = Evidence::new(&SHOP, &["Larchwood assistant"]);
    let bakery = Evidence::new(&BAKERY, &["Riverside Bakery assistant"]);
    for (e, right, wrong) in [
        (&shop, &RIGHT_SHOP[..], &WRONG_SHOP[..]),
        (&bakery, &RIGHT_BAKERY[..], &WRONG_BAKERY[..]),
    ] {
        for r in right.iter().filter(|r| e.judge_reply(r).is_none()) {
            println!("dropped: {r}");
        }
        for r in wrong.iter().filter(|r| e.judge_reply(r).is_some()) {
            println!("slipped: {r} {:?}", e.judge_reply(r));
        }
    }
    let (kept, slipped) = rates(MIN_COVERAGE);
    assert_eq!(slipped, 0, "a wrong reply was kept at the chosen point");
    assert!(
        kept * 10 >= (RIGHT_SHOP.len() + RIGHT_BAKERY.len()) * 8,
        "{kept}/{} right replies kept",
        (RIGHT_SHOP.len() + RIGHT_BAKERY.len())
    );
}
