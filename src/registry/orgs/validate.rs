//! The checks of an organisation's input, field by field, into a clean record.

use super::*;

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A phone number: digits, spaces, hyphens and a leading +, 7–20 characters.
pub fn check_phone(checks: &mut Checks, field: &str, v: &Option<String>) -> Option<String> {
    let s = opt(v)?;
    let ok = (7..=20).contains(&s.chars().count())
        && s.chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == '-' || c == ' ' || (i == 0 && c == '+'))
        && s.chars().filter(char::is_ascii_digit).count() >= 7;
    if !ok {
        checks.add(
            field,
            "phone",
            "电话号码应为 7–20 位数字，可含空格、连字符及开头的 +。",
            "A phone number has 7–20 digits, with optional spaces, hyphens and a leading +.",
        );
    }
    Some(s)
}

fn check_len(checks: &mut Checks, field: &str, v: &Option<String>, max: usize) -> Option<String> {
    let s = opt(v)?;
    if s.chars().count() > max {
        checks.add(
            field,
            "max_length",
            format!("最多 {max} 个字符。"),
            format!("At most {max} characters."),
        );
    }
    Some(s)
}

fn check_count(checks: &mut Checks, field: &str, v: Option<i64>) -> i32 {
    match v {
        None => 0,
        Some(n) if (0..=1_000_000).contains(&n) => n as i32,
        Some(_) => {
            checks.add(
                field,
                "range",
                "人数应为 0 至 1000000 之间的整数。",
                "A count is a whole number from 0 to 1,000,000.",
            );
            0
        }
    }
}

/// Check every rule of an organisation; `f` names a field (the CSV import prefixes the line). Returns the
/// clean value when no rule was broken by this call.
pub fn validate(
    conn: &mut DbConn,
    inp: &OrgInput,
    self_id: Option<i64>,
    today: NaiveDate,
    checks: &mut Checks,
    f: &dyn Fn(&str) -> String,
) -> Result<Option<Clean>, AppError> {
    let n0 = checks.errors().len();
    let name = inp.name.trim().to_string();
    if checks.required(&f("name"), &name) && name.chars().count() > 100 {
        checks.add(
            &f("name"),
            "max_length",
            "名称最多 100 个字符。",
            "A name has at most 100 characters.",
        );
    }
    let kind = inp.kind.trim().to_string();
    if checks.required(&f("kind"), &kind) && !one_of(KINDS, &kind) {
        checks.add(
            &f("kind"),
            "one_of",
            format!("类型须为：{}。", keys(KINDS)),
            format!("Kind must be one of: {}.", keys(KINDS)),
        );
    }
    let registration = inp.registration.trim().to_string();
    if checks.required(&f("registration"), &registration) && !one_of(REGISTRATIONS, &registration) {
        checks.add(
            &f("registration"),
            "one_of",
            "登记状态须为 registered、filed 或 unregistered。",
            "Registration must be registered, filed or unregistered.",
        );
    }
    let mut code = None;
    match opt(&inp.credit_code) {
        None => {
            if registration == "registered" {
                checks.add(
                    &f("credit_code"),
                    "required",
                    "已登记的组织须填写统一社会信用代码。",
                    "A registered organisation needs its unified social credit code.",
                );
            }
        }
        Some(s) => match CreditCode::parse(&s) {
            Err(e) => {
                let m = e.message();
                checks.add(&f("credit_code"), e.rule(), m.zh, m.en);
            }
            Ok(c) => {
                let c = c.as_str().to_string();
                let taken: Option<i64> = o::table
                    .filter(o::credit_code.eq(&c))
                    .filter(o::id.ne(self_id.unwrap_or(0)))
                    .select(o::id)
                    .first(conn)
                    .optional()?;
                if taken.is_some() {
                    checks.add(
                        &f("credit_code"),
                        "unique",
                        "该统一社会信用代码已被其他组织使用。",
                        "Another organisation already has this credit code.",
                    );
                }
                // Civil-affairs codes name the kind in position 2 (1 社会团体, 2 民办非企业单位, 3 基金会).
                let expected = match &c[..2] {
                    "51" => Some("social_group"),
                    "52" => Some("private_non_enterprise"),
                    "53" => Some("foundation"),
                    _ => None,
                };
                if let Some(k) = expected
                    && one_of(KINDS, &kind)
                    && ["social_group", "private_non_enterprise", "foundation"]
                        .contains(&kind.as_str())
                    && k != kind
                {
                    checks.add(
                        &f("kind"),
                        "matches_code",
                        format!("信用代码第 2 位表明类型为“{}”。", label(KINDS, k, true)),
                        format!(
                            "Position 2 of the credit code says the kind is {}.",
                            label(KINDS, k, false)
                        ),
                    );
                }
                code = Some(c);
            }
        },
    }
    let registered_on = checks.date(&f("registered_on"), inp.registered_on.as_deref());
    if registered_on.is_some_and(|d| d > today) {
        checks.add(
            &f("registered_on"),
            "not_future",
            "登记日期不能晚于今天。",
            "The registration date cannot be in the future.",
        );
    }
    let registration_authority = check_len(
        checks,
        &f("registration_authority"),
        &inp.registration_authority,
        100,
    );
    let legal_representative = check_len(
        checks,
        &f("legal_representative"),
        &inp.legal_representative,
        50,
    );
    let contact_name = check_len(checks, &f("contact_name"), &inp.contact_name, 50);
    let contact_phone = check_phone(checks, &f("contact_phone"), &inp.contact_phone);
    let contact_email = opt(&inp.contact_email);
    if let Some(e) = &contact_email
        && e.parse::<lettre::Address>().is_err()
    {
        checks.add(
            &f("contact_email"),
            "email",
            "电子邮箱格式不正确。",
            "Not a valid e-mail address.",
        );
    }
    let address = check_len(checks, &f("address"), &inp.address, 200);
    let staff_count = check_count(checks, &f("staff_count"), inp.staff_count);
    let volunteer_count = check_count(checks, &f("volunteer_count"), inp.volunteer_count);
    let mut fields: Vec<String> = inp.fields.iter().map(|s| s.trim().to_string()).collect();
    fields.retain(|s| !s.is_empty());
    fields.sort();
    fields.dedup();
    if let Some(bad) = fields.iter().find(|x| !one_of(FIELDS, x)) {
        checks.add(
            &f("fields"),
            "one_of",
            format!("服务领域“{bad}”无效，可选：{}。", keys(FIELDS)),
            format!("Unknown service field {bad:?}; use: {}.", keys(FIELDS)),
        );
    }
    let mut areas = inp.area_street_ids.clone();
    areas.sort();
    areas.dedup();
    let mut wanted = areas.clone();
    if let Some(s) = inp.street_id {
        wanted.push(s);
    }
    if !wanted.is_empty() {
        let known: Vec<i64> = st::table
            .filter(st::id.eq_any(&wanted))
            .select(st::id)
            .load(conn)?;
        if inp.street_id.is_some_and(|s| !known.contains(&s)) {
            checks.add(&f("street_id"), "exists", "街道不存在。", "No such street.");
        }
        if areas.iter().any(|s| !known.contains(s)) {
            checks.add(
                &f("area_street_ids"),
                "exists",
                "服务区域中有不存在的街道。",
                "A street among the service areas does not exist.",
            );
        }
    }
    if checks.errors().len() > n0 {
        return Ok(None);
    }
    Ok(Some(Clean {
        name,
        kind,
        registration,
        credit_code: code,
        registered_on,
        registration_authority,
        legal_representative,
        contact_name,
        contact_phone,
        contact_email,
        address,
        street_id: inp.street_id,
        staff_count,
        volunteer_count,
        fields,
        areas,
    }))
}
