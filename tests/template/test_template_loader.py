"""The template loader turns CloudFormation short tags into their long form."""

from __future__ import annotations

from cfn_model import load_template_text


def test_loader_expands_every_short_tag_the_template_may_use() -> None:
    document = load_template_text(
        """
        a: !Ref Queue
        b: !GetAtt Queue.Arn
        c: !Sub "/aws/lambda/${Fn}"
        d: !If [HasAlarmEmail, !Ref AlarmEmail, !Ref AWS::NoValue]
        e: !Not [!Equals [!Ref AlarmEmail, ""]]
        f: !Join ["", [a, !Ref B]]
        g: !Select [0, !Split [",", "x,y"]]
        """
    )

    assert document == {
        "a": {"Ref": "Queue"},
        "b": {"Fn::GetAtt": ["Queue", "Arn"]},
        "c": {"Fn::Sub": "/aws/lambda/${Fn}"},
        "d": {"Fn::If": ["HasAlarmEmail", {"Ref": "AlarmEmail"}, {"Ref": "AWS::NoValue"}]},
        "e": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]},
        "f": {"Fn::Join": ["", ["a", {"Ref": "B"}]]},
        "g": {"Fn::Select": [0, {"Fn::Split": [",", "x,y"]}]},
    }
