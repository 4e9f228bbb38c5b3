from pathlib import Path

from tests.builders.android import ab_backup, run_on, sms_backup_file
from unmask.parsers.android.sms_backup import SmsBackupParser

TEL = "apps/com.android.providers.telephony/d_f/"


def test_sms_and_mms_with_their_own_time_units(tmp_path: Path) -> None:
    data = ab_backup({
        TEL + "000000_sms_backup": sms_backup_file([{"address": "+336", "body": "see https://evil.example/x", "date": "1714640000000",
                                                     "date_sent": "0", "type": "1", "read": "1"}]),
        TEL + "000001_mms_backup": sms_backup_file([{"date": "1714640000", "msg_box": "2", "mms_body": "hi",
                                                     "mms_addresses": [{"type": 137, "address": "+337"}]}]),
    })
    (tmp_path / "b.ab").write_bytes(data)
    records, _ = run_on(SmsBackupParser, tmp_path / "b.ab")
    sms, mms = sorted(records, key=lambda r: r.service, reverse=True)
    assert sms.links == ("https://evil.example/x",) and sms.direction == "received"
    # MVT divides both by 1000; MMS dates are seconds, so its MMS land in 1970.
    assert sms.date == mms.date and mms.date.year == 2024 and mms.direction == "sent" and mms.address == "+337"
